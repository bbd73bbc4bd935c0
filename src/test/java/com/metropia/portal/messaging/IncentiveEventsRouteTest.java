package com.metropia.portal.messaging;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.logging.log4j.Level;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class IncentiveEventsRouteTest extends PortalTestSupport {

    @Test
    void should_store_1200_events_as_documents_of_500_500_200_in_request_order() throws Exception {
        HttpResponse<String> response = postJson("/api/events", events(1200, "r1"));

        assertThat(response.statusCode()).isEqualTo(201);
        JsonNode reply = json(response);
        assertThat(reply.get("events").asInt()).isEqualTo(1200);
        assertThat(reply.get("documents").asInt()).isEqualTo(3);
        List<Document> documents = storedDocuments();
        assertThat(documents).extracting(d -> d.getList("data", Document.class).size()).containsExactly(500, 500, 200);
        assertThat(documents).extracting(d -> d.getObjectId("_id").toHexString())
                .containsExactlyElementsOf(textValues(reply.get("ids")));
        int seq = 0;
        for (Document document : documents) {
            // the incentive system's fields first, then the id of the request that stored them
            assertThat(document.keySet()).containsExactly("_id", "action", "data", "created_at", "request_id");
            assertThat(document.get("request_id")).isEqualTo(response.headers().firstValue("X-Request-Id").orElseThrow());
            assertThat(document.get("action")).isEqualTo("event");
            assertThat(document.get("created_at")).isInstanceOf(Date.class);
            for (Document event : document.getList("data", Document.class)) {
                assertThat(event.keySet()).containsExactly("userIds", "eventName", "eventMeta");
                assertThat(event.get("eventMeta", Document.class).getInteger("seq")).isEqualTo(seq++);
            }
        }
        assertThat(seq).isEqualTo(1200);
    }

    @Test
    void should_store_500_events_as_exactly_one_document() throws Exception {
        HttpResponse<String> response = postJson("/api/events", events(500, "r1"));

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(storedDocuments()).extracting(d -> d.getList("data", Object.class).size()).containsExactly(500);
    }

    @Test
    void should_store_1_event_as_one_document_exactly_as_the_incentive_system_reads_it() throws Exception {
        HttpResponse<String> response = postJson("/api/events", """
                [{"userIds": ["123", 456], "eventName": "trip_completed",
                  "eventMeta": {"trip_id": "trip_789", "distance": 5.2, "duration": 1800, "tags": ["a"], "ok": true}}]
                """);

        assertThat(response.statusCode()).isEqualTo(201);
        Document stored = storedDocuments().get(0);
        assertThat(json(response).get("ids").get(0).asText()).isEqualTo(stored.getObjectId("_id").toHexString());
        Document event = stored.getList("data", Document.class).get(0);
        assertThat(event.getList("userIds", Object.class)).containsExactly("123", "456");
        assertThat(event.getString("eventName")).isEqualTo("trip_completed");
        Document meta = event.get("eventMeta", Document.class);
        assertThat(meta.get("distance")).isEqualTo(5.2);
        assertThat(meta.get("duration")).isEqualTo(1800);
        assertThat(meta.get("trip_id")).isEqualTo("trip_789");
        assertThat(meta.getList("tags", String.class)).containsExactly("a");
        assertThat(meta.get("ok")).isEqualTo(true);
    }

    @Test
    void should_store_nothing_and_answer_200_for_0_events() throws Exception {
        HttpResponse<String> response = postJson("/api/events", "[]");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode reply = json(response);
        assertThat(reply.get("events").asInt()).isZero();
        assertThat(reply.get("documents").asInt()).isZero();
        assertThat(reply.get("detail").asText()).isEqualTo("No events: nothing stored");
        assertThat(sendEvent().countDocuments()).isZero();
    }

    @Test
    void should_accept_the_events_under_an_events_key() throws Exception {
        HttpResponse<String> response = postJson("/api/events", "{\"events\": " + events(3, "wrapped") + "}");

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(storedDocuments()).extracting(d -> d.getList("data", Object.class).size()).containsExactly(3);
    }

    @Test
    void should_keep_the_events_of_20_concurrent_requests_of_700_apart_in_40_documents() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(20);
        try {
            List<Callable<HttpResponse<String>>> requests = new ArrayList<>();
            for (int r = 0; r < 20; r++) {
                String body = events(700, "r" + r);
                requests.add(() -> postJson("/api/events", body));
            }
            for (Future<HttpResponse<String>> response : clients.invokeAll(requests)) {
                assertThat(response.get().statusCode()).isEqualTo(201);
                assertThat(json(response.get()).get("documents").asInt()).isEqualTo(2);
            }
        } finally {
            clients.shutdownNow();
        }

        List<Document> documents = storedDocuments();
        assertThat(documents).hasSize(40);
        for (int r = 0; r < 20; r++) {
            String request = "r" + r;
            List<Document> ofRequest = documents.stream()
                    .filter(d -> d.getList("data", Document.class).get(0).get("eventMeta", Document.class)
                            .getString("request").equals(request))
                    .toList();
            assertThat(ofRequest).as(request).extracting(d -> d.getList("data", Document.class).size())
                    .containsExactly(500, 200);
            int seq = 0;
            for (Document document : ofRequest) {
                for (Document event : document.getList("data", Document.class)) {
                    Document meta = event.get("eventMeta", Document.class);
                    assertThat(meta.getString("request")).isEqualTo(request);
                    assertThat(meta.getInteger("seq")).isEqualTo(seq++);
                }
            }
        }
    }

    @Test
    void should_store_nothing_and_answer_400_naming_index_7_for_an_invalid_event_at_index_7_of_10() throws Exception {
        JsonNode events = JSON.readTree(events(10, "bad"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) events.get(7)).putArray("userIds");

        HttpResponse<String> response = postJson("/api/events", events.toString());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = json(response);
        assertThat(problem.get("errors")).hasSize(1);
        assertThat(problem.get("errors").get(0).get("index").asInt()).isEqualTo(7);
        assertThat(problem.get("errors").get(0).get("field").asText()).isEqualTo("userIds");
        assertThat(problem.get("detail").asText()).contains("event 7 userIds");
        assertThat(sendEvent().countDocuments()).isZero();
    }

    @Test
    void should_reject_every_kind_of_invalid_event_with_its_field() throws Exception {
        String[][] cases = {
                {"[{\"userIds\": [\"1\"], \"eventName\": \"\", \"eventMeta\": {}}]", "eventName"},
                {"[{\"userIds\": [\"1\"], \"eventName\": \"x\", \"eventMeta\": []}]", "eventMeta"},
                {"[{\"userIds\": [{\"id\": 1}], \"eventName\": \"x\", \"eventMeta\": {}}]", "userIds[0]"},
                {"[{\"userIds\": \"1\", \"eventName\": \"x\", \"eventMeta\": {}}]", "userIds"},
                {"[{\"eventName\": \"x\", \"eventMeta\": {}}]", "userIds"},
                {"[{\"userIds\": [\"1\"], \"eventName\": \"x\", \"eventMeta\": {}, \"extra\": 1}]", "extra"},
                {"[42]", "(body)"},
                {"{\"userIds\": [\"1\"], \"eventName\": \"x\", \"eventMeta\": {}}", "(body)"}};
        for (String[] invalid : cases) {
            HttpResponse<String> response = postJson("/api/events", invalid[0]);

            assertThat(response.statusCode()).as(invalid[0]).isEqualTo(400);
            assertThat(json(response).get("errors").findValuesAsText("field")).as(invalid[0]).contains(invalid[1]);
        }
        assertThat(sendEvent().countDocuments()).isZero();
    }

    @Test
    void should_log_one_info_line_per_event_with_comma_joined_user_ids_and_event_meta_only_at_debug() throws Exception {
        try (CapturedLogs info = CapturedLogs.of("portal.events", Level.INFO)) {
            postJson("/api/events", "[{\"userIds\": [\"123\", \"456\"], \"eventName\": \"trip_completed\","
                                    + " \"eventMeta\": {\"email\": \"rider@example.com\"}}]");

            assertThat(info.lines()).containsExactly("INFO Send incentive event UserIds: 123,456 Name:trip_completed");
        }
        try (CapturedLogs debug = CapturedLogs.of("portal.events", Level.DEBUG)) {
            postJson("/api/events", "[{\"userIds\": [\"7\"], \"eventName\": \"referral_bonus\","
                                    + " \"eventMeta\": {\"email\": \"rider@example.com\"}}]");

            assertThat(debug.lines()).filteredOn(line -> line.startsWith("DEBUG"))
                    .anySatisfy(line -> assertThat(line).contains("rider@example.com"));
        }
    }

    /**
     * What MongoDB 5.0+ stores is not refused: field names starting with $ or holding dots, a NUL character inside a
     * string, and eventMeta nested as deep as a stored document may be (100 levels: 97 inside eventMeta).
     */
    @Test
    void should_store_dollar_and_dotted_field_names_nul_in_text_and_the_deepest_nesting_mongodb_takes()
            throws Exception {
        String meta = "{\"$price\":1,\"a.b\":2,\"$ref\":\"x\",\"text\":\"a\\u0000b\",\"deep\":"
                      + HostileInputTest.nested(96) + "}";

        HttpResponse<String> response = postJson("/api/events",
                "[{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":" + meta + "}]");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        Document stored = storedDocuments().get(0).getList("data", Document.class).get(0).get("eventMeta", Document.class);
        assertThat(stored.keySet()).containsExactly("$price", "a.b", "$ref", "text", "deep");
        assertThat(stored.getString("text")).isEqualTo("a\u0000b");
        int levels = 0;
        for (Object level = stored.get("deep"); level instanceof Document document; level = document.get("s")) {
            levels++;
        }
        assertThat(levels).isEqualTo(96);
    }

    private static List<String> textValues(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }
}
