package com.metropia.portal.messaging;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request of 100,000 events (about 9 MB) to the packaged service in a JVM of its own with a heap of 256 MB
 * ({@link ChildJvm}), per-event log line on as in the default run; and one event more than
 * {@code portal.events.max-events} refused with 413 before anything is stored.
 */
class LargeEventsRequestTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void should_store_100000_events_in_200_documents_with_a_heap_of_256_mb_and_refuse_100001_with_413()
            throws Exception {
        String database = "portal_large_request";
        Map<String, String> environment = PortalService.emulatorEnvironment(emulators,
                emulators.createQueue("large-request"), database);
        environment.put("PORTAL_API_KEYS", PortalService.API_KEY);
        int port = Integer.parseInt(environment.get("PORTAL_HTTP_PORT"));
        try (ChildJvm service = ChildJvm.start(PortalMessagingApplication.class, environment);
             MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
            MongoCollection<Document> stored = mongo.getDatabase(database).getCollection("send_event");
            stored.drop();
            service.awaitServing(port, Duration.ofSeconds(90));

            HttpResponse<String> tooMany = post(port, PortalTestSupport.events(100_001, "too-many"));
            assertThat(tooMany.statusCode()).as(tooMany.body()).isEqualTo(413);
            assertThat(JSON.readTree(tooMany.body()).path("detail").asText())
                    .contains("100001 events", "at most 100000", "portal.events.max-events");
            assertThat(stored.countDocuments()).as("nothing stored of the refused request").isZero();

            HttpResponse<String> answer = post(port, PortalTestSupport.events(100_000, "large"));
            assertThat(answer.statusCode()).as(answer.body() + service.output().lines()
                    .filter(line -> line.contains("OutOfMemoryError")).findFirst().orElse("")).isEqualTo(201);
            JsonNode reply = JSON.readTree(answer.body());
            assertThat(reply.path("events").asInt()).isEqualTo(100_000);
            assertThat(reply.path("documents").asInt()).isEqualTo(200);

            List<Document> documents = stored.find().sort(new Document("data.0.eventMeta.seq", 1))
                    .into(new java.util.ArrayList<>());
            assertThat(documents).hasSize(200);
            int expected = 0;
            for (Document document : documents) {
                List<Document> data = document.getList("data", Document.class);
                assertThat(data).hasSize(500);
                for (Document event : data) {
                    assertThat(event.get("eventMeta", Document.class).getInteger("seq")).isEqualTo(expected++);
                }
            }
            assertThat(service.output()).doesNotContain("OutOfMemoryError");
        }
    }

    private HttpResponse<String> post(int port, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/events"))
                .header("X-API-Key", PortalService.API_KEY)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofMinutes(5))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
