package com.metropia.portal.messaging;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.apache.camel.CamelExecutionException;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Input meant to break the service: each gets a 4xx problem+json that says what is wrong, nothing is written, and the
 * service still answers afterwards.
 */
class HostileInputTest extends PortalTestSupport {

    private static final String TASK = "{\"action\":\"x\",\"data\":{}}";
    private static final String EVENTS = "[{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{}}]";

    @BeforeEach
    void emptyFallback() {
        fallback().drop();
    }

    /** Each test sends only what must be refused: nothing may reach the queue, the fallback or send_event. */
    @AfterEach
    void nothingWritten() {
        assertThat(sendEvent().countDocuments()).as("send_event").isZero();
        assertThat(fallback().countDocuments()).as("send_task_fallback").isZero();
        assertThat(receiveAll(1, Duration.ofSeconds(1))).as("the queue").isEmpty();
    }

    private com.mongodb.client.MongoCollection<Document> fallback() {
        return mongo.getDatabase(database).getCollection("send_task_fallback");
    }

    @Test
    void should_refuse_10000_deep_nesting() throws Exception {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);

        assertProblem(postJson("/api/events", deep), 400, "nesting");
        assertProblem(postJson("/api/tasks", "{\"action\":\"a\",\"data\":" + "{\"a\":".repeat(10_000) + "1"
                                             + "}".repeat(10_001)), 400, "nesting");
    }

    @Test
    void should_refuse_numbers_too_large_to_store() throws Exception {
        String event = "[{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"n\":%s}}]";

        HttpResponse<String> huge = postJson("/api/events", event.formatted("1e400"));
        assertProblem(huge, 400, "beyond a double");
        assertThat(json(huge).get("errors").get(0).get("index").asInt()).isZero();
        assertProblem(postJson("/api/events", event.formatted("123456789012345678901234567890")), 400,
                "beyond a 64-bit integer");
        assertProblem(postJson("/api/events", event.formatted("1" + "0".repeat(2000))), 400, "not valid JSON");
    }

    @Test
    void should_refuse_bytes_that_are_not_utf_8() throws Exception {
        byte[] body = "[{\"userIds\":[\"1\"],\"eventName\":\"caf\u00e9\",\"eventMeta\":{}}]"
                .getBytes(StandardCharsets.ISO_8859_1);

        assertProblem(send(service.request("/api/events")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))), 400, "UTF-8");
    }

    @Test
    void should_refuse_duplicate_keys_rather_than_pick_one() throws Exception {
        assertProblem(postJson("/api/tasks", "{\"action\":\"a\",\"action\":\"b\",\"data\":{}}"), 400, "Duplicate field");
    }

    @Test
    void should_refuse_json_of_the_wrong_kind_and_an_empty_body() throws Exception {
        assertProblem(postJson("/api/tasks", "\"just a string\""), 400, "object");
        assertProblem(postJson("/api/events", "42"), 400, "array");
        assertProblem(postJson("/api/events", ""), 400, "no body");
    }

    @Test
    void should_refuse_every_json_kind_but_an_object_as_a_task_and_queue_nothing() throws Exception {
        Map<String, String> kinds = Map.of(
                JSON.writeValueAsString(TASK), "a JSON string",
                "\"just a string\"", "a JSON string",
                "42", "a number",
                "-1.5e3", "a number",
                "true", "true",
                "false", "false",
                "null", "null");
        for (var kind : kinds.entrySet()) {
            HttpResponse<String> response = postJson("/api/tasks", kind.getKey());

            assertProblem(response, 400, "A task is a JSON object");
            assertThat(json(response).get("detail").asText()).as(kind.getKey()).endsWith("not " + kind.getValue()
                    + (kind.getKey().startsWith("\"{") ? " (its text is JSON: was the JSON encoded twice?)" : ""));
            assertThat(json(response).get("errors").get(0).get("field").asText()).isEqualTo("(body)");
        }
    }

    @Test
    void should_refuse_every_json_kind_but_an_array_or_an_events_object_as_events_and_store_nothing() throws Exception {
        Map<String, String> kinds = new java.util.LinkedHashMap<>();
        kinds.put(JSON.writeValueAsString(EVENTS), "not a JSON string (its text is JSON: was the JSON encoded twice?)");
        kinds.put("\"x\"", "not a JSON string");
        kinds.put("42", "not a number");
        kinds.put("true", "not true");
        kinds.put("false", "not false");
        kinds.put("null", "not null");
        kinds.put("{}", "the object has no \"events\"");
        kinds.put("{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{}}", "the object has no \"events\"");
        kinds.put("{\"events\":\"x\"}", "\"events\" must be an array of events, not a JSON string");
        kinds.put("{\"events\":null}", "\"events\" must be an array of events, not null");
        kinds.put("{\"events\":{}}", "\"events\" must be an array of events, not an object");
        kinds.put("{\"events\":" + EVENTS + ",\"extra\":1}", "the object holds other fields than \"events\"");
        for (var kind : kinds.entrySet()) {
            HttpResponse<String> response = postJson("/api/events", kind.getKey());

            assertProblem(response, 400, "The events are a JSON array of events, or an object {\"events\": [...]}");
            assertThat(json(response).get("detail").asText()).as(kind.getKey()).endsWith(kind.getValue());
        }
    }

    @Test
    void should_refuse_every_wrong_kind_of_body_from_java_callers_and_write_nothing() throws Exception {
        List<Object> tasks = List.of(JSON.writeValueAsString(TASK), new TextNode(TASK), 42, "null", List.of(Map.of()),
                TASK.getBytes(StandardCharsets.UTF_16), new Object());
        List<Object> events = List.of(JSON.writeValueAsString(EVENTS), new TextNode(EVENTS), "true",
                Map.of("userIds", List.of("1"), "eventName", "x", "eventMeta", Map.of()), Map.of("events", "x"),
                EVENTS.getBytes(Charset.forName("UTF-32")));
        for (Object body : tasks) {
            // a List is a batch of tasks: its invalid task is named by index
            assertThat(refusal("direct:task", body)).as(String.valueOf(body)).containsAnyOf("A task is a JSON object",
                    "is not JSON", "not UTF-8", "task 0 action");
        }
        for (Object body : events) {
            assertThat(refusal("direct:events", body)).as(String.valueOf(body)).containsAnyOf("The events are",
                    "not UTF-8");
        }
    }

    private String refusal(String endpoint, Object body) {
        CamelExecutionException thrown = catchThrowableOfType(CamelExecutionException.class,
                () -> service.producer().requestBody(endpoint, body));
        assertThat(thrown).as("%s took %s", endpoint, body).isNotNull();
        assertThat(thrown.getCause()).isInstanceOf(InvalidRequestException.class);
        return thrown.getCause().getMessage();
    }

    /** The same text in encodings other than UTF-8, and byte sequences no UTF-8 decoder may accept. */
    @Test
    void should_refuse_every_body_that_is_not_well_formed_utf_8_on_both_paths() throws Exception {
        for (String path : List.of("/api/tasks", "/api/events")) {
            String text = path.endsWith("tasks") ? TASK : EVENTS;
            List<byte[]> bodies = new ArrayList<>();
            bodies.add(text.getBytes(StandardCharsets.UTF_16LE));
            bodies.add(text.getBytes(StandardCharsets.UTF_16BE));
            bodies.add(text.getBytes(StandardCharsets.UTF_16)); // with a byte order mark
            bodies.add(concat(HexFormat.of().parseHex("fffe"), text.getBytes(StandardCharsets.UTF_16LE)));
            bodies.add(text.getBytes(Charset.forName("UTF-32BE")));
            bodies.add(text.getBytes(Charset.forName("UTF-32LE")));
            bodies.add(text.replace("\"x\"", "\"caf\u00e9\"").getBytes(StandardCharsets.ISO_8859_1));
            for (String bad : List.of("c0af", "e080af", "eda080", "edbfbf", "f4908080", "f88888808080", "80", "e282",
                    "ff")) {
                // "x" becomes "x<bad bytes>"
                int at = text.indexOf("\"x\"") + 2;
                byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
                bodies.add(concat(java.util.Arrays.copyOfRange(utf8, 0, at), HexFormat.of().parseHex(bad),
                        java.util.Arrays.copyOfRange(utf8, at, utf8.length)));
            }
            for (byte[] body : bodies) {
                HttpResponse<String> response = send(service.request(path)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));

                assertThat(response.statusCode()).as("%s %s", path, HexFormat.of().formatHex(body)).isEqualTo(400);
                assertThat(json(response).get("detail").asText()).contains("UTF-8");
            }
        }
        assertThat(refusal("direct:task", concat("{\"action\":\"x".getBytes(StandardCharsets.UTF_8),
                HexFormat.of().parseHex("c0af"), "\",\"data\":{}}".getBytes(StandardCharsets.UTF_8))))
                .contains("not UTF-8").contains("0xC0").contains("offset 12");
    }

    @Test
    void should_answer_malformed_json_in_plain_words_with_line_and_column() throws Exception {
        List<String> bodies = List.of("[NaN]", "[Infinity]", "{\"action\":\"a\",\"data\":{}} {}", "[1][2]",
                "// comment\n{}", "[+1]", "{\"action\":\"a\"", "[\"abc", "{'action':1}", "[01]", "[1,]");
        for (String body : bodies) {
            for (String path : List.of("/api/tasks", "/api/events")) {
                HttpResponse<String> response = postJson(path, body);

                assertProblem(response, 400, "not valid JSON");
                String detail = json(response).get("detail").asText();
                assertThat(detail).as(body).contains("(line ");
                for (String internal : List.of("`", "Feature", "jackson", "JsonNode", "JsonParse", "JsonToken", "VALUE_",
                        "START_", "REDACTED", "Source:")) {
                    assertThat(detail).as(body).doesNotContain(internal);
                }
            }
        }
    }

    /**
     * What MongoDB 5.0+ or its Java driver refuses or changes in a document is the caller's mistake (400), found
     * before any batch is stored; a 503 would send a client retrying on 503 round in circles.
     */
    @Test
    void should_refuse_what_mongodb_would_not_store_naming_the_event_and_the_field() throws Exception {
        String good = "{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{}}";
        String[][] cases = {
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"a\\u0000b\":1}}", "eventMeta.a\\u0000b",
                        "NUL"},
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"a\":{\"b\\u0000\":[1]}}}",
                        "eventMeta.a.b\\u0000", "NUL"},
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"t\":[\"ok\",\"\\ud800\"]}}", "eventMeta.t[1]",
                        "U+D800"},
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"\\udc00\":1}}", "eventMeta.\\udc00",
                        "U+DC00"},
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\\udbff\",\"eventMeta\":{}}", "eventName", "U+DBFF"},
                {"{\"userIds\":[\"1\",\"\\ud83d\"],\"eventName\":\"x\",\"eventMeta\":{}}", "userIds[1]", "U+D83D"},
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":" + nested(98) + "}",
                        "eventMeta" + ".s".repeat(97), "100 levels"},
                {"{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"a\":" + "[".repeat(97) + "]".repeat(97)
                 + "}}", "eventMeta.a" + "[0]".repeat(96), "100 levels"}};
        for (String[] refused : cases) {
            HttpResponse<String> response = postJson("/api/events", "[" + good + "," + refused[0] + "]");

            assertProblem(response, 400, "MongoDB cannot store");
            JsonNode error = json(response).get("errors").get(0);
            assertThat(error.get("index").asInt()).as(refused[0]).isEqualTo(1);
            assertThat(error.get("field").asText()).as(refused[0]).isEqualTo(refused[1]);
            assertThat(error.get("message").asText()).as(refused[0]).contains(refused[2]);
        }
    }

    /** {"s": {"s": ... 1}} with the given number of object levels. */
    static String nested(int levels) {
        return "{\"s\":".repeat(levels) + "1" + "}".repeat(levels);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Test
    void should_answer_413_naming_the_limit_for_a_task_over_the_sqs_limit() throws Exception {
        String task = "{\"action\":\"a\",\"data\":{\"blob\":\"" + "x".repeat(1_048_576) + "\"}}";

        HttpResponse<String> response = postJson("/api/tasks", task);

        assertProblem(response, 413, "1048576");
    }

    @Test
    void should_answer_404_as_a_problem_for_an_unknown_path() throws Exception {
        assertProblem(postJson("/api/task", "{\"action\":\"a\",\"data\":{}}"), 404, "No resource at this path");
        assertProblem(send(service.request("/").GET()), 404, "POST /api/tasks");
    }

    @Test
    void should_answer_413_as_a_problem_for_a_body_over_the_server_limit() throws Exception {
        String events = "[" + "{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"pad\":\"%s\"}},"
                .formatted("x".repeat(1000)).repeat(11_000) + "{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{}}]";

        assertProblem(postJson("/api/events", events), 413, "camel.server.max-body-size");
    }

    private void assertProblem(HttpResponse<String> response, int status, String detail) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(response).get("detail").asText()).containsIgnoringCase(detail);
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue(json(response).get("requestId").asText());
        // still answering
        assertThat(postJson("/api/events", "[]").statusCode()).isEqualTo(200);
    }
}
