package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's "Editing routes" examples, each applied to a copy of routes/ exactly as written there.
 */
class WorkedExamplesTest {

    /** Where the README says single-event edits go. */
    static final String EDIT_ANCHOR = "# Edits that drop or re-route single events go here";

    static final String DENY_LIST_EDIT = """
            # Drop the events whose name is in portal.events.deny-list (comma-separated).
            - filter:
                simple: "${body[eventName]} in '{{portal.events.deny-list}}'"
                steps:
                  - stop: {}
            """;

    static final String MILESTONES_EDIT = """
            # milestone_achieved events go to their own collection.
            - filter:
                simple: "${body[eventName]} == 'milestone_achieved'"
                steps:
                  - setProperty:
                      name: portalEventsCollection
                      constant: milestone_event
            """;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newHttpClient();
    private MongoClient mongo;
    private MongoDatabase database;
    private PortalService service;

    @TempDir
    Path routes;

    @BeforeEach
    void copyRoutes() throws IOException {
        PortalService.copyRoutes(routes);
        mongo = MongoClients.create(emulators.mongoUri());
        database = mongo.getDatabase("portal_examples");
        database.drop();
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
        mongo.close();
    }

    @Test
    void example_1_batch_size_200_stores_450_events_as_200_200_50() throws Exception {
        edit("events.camel.yaml", "value: \"{{portal.events.batch-size}}\"", "value: \"200\"");
        start(Map.of());

        JsonNode reply = postEvents(events(450, i -> "trip_completed"));

        assertThat(reply.get("documents").asInt()).isEqualTo(3);
        assertThat(sizes("send_event")).containsExactly(200, 200, 50);
    }

    @Test
    void example_2_deny_list_drops_the_named_events_before_batching() throws Exception {
        insertAtAnchor(DENY_LIST_EDIT);
        start(Map.of("portal.events.deny-list", "test_ping,debug_event"));

        // the last event is denied too: its batch still completes at once
        JsonNode reply = postEvents(events(1003, i -> i % 2 == 0 ? "test_ping" : i == 1002 ? "debug_event" : "trip_completed"));

        assertThat(reply.get("events").asInt()).isEqualTo(1003);
        assertThat(reply.get("droppedEvents").asInt()).isEqualTo(502);
        assertThat(reply.get("documents").asInt()).isEqualTo(2);
        List<Document> stored = documents("send_event");
        assertThat(stored).extracting(d -> d.getList("data", Object.class).size()).containsExactly(500, 1);
        assertThat(stored).flatExtracting(d -> d.getList("data", Document.class))
                .extracting(e -> e.getString("eventName")).containsOnly("trip_completed");
    }

    @Test
    void example_3_milestones_go_to_their_own_collection_in_their_own_batches() throws Exception {
        insertAtAnchor(MILESTONES_EDIT);
        start(Map.of());

        JsonNode reply = postEvents(events(1200, i -> i % 3 == 0 ? "milestone_achieved" : "trip_completed"));

        assertThat(reply.get("documents").asInt()).isEqualTo(3);
        assertThat(reply.get("idsByCollection").get("milestone_event")).hasSize(1);
        assertThat(sizes("milestone_event")).containsExactly(400);
        assertThat(sizes("send_event")).containsExactly(500, 300);
        assertThat(documents("milestone_event").get(0).getList("data", Document.class))
                .extracting(e -> e.getString("eventName")).containsOnly("milestone_achieved");
        assertThat(documents("send_event")).flatExtracting(d -> d.getList("data", Document.class))
                .extracting(e -> e.get("eventMeta", Document.class).getInteger("seq"))
                .isSorted().doesNotContain(0, 3, 6);
    }

    private void edit(String file, String from, String to) throws IOException {
        Path path = routes.resolve(file);
        String yaml = Files.readString(path);
        assertThat(yaml).contains(from);
        Files.writeString(path, yaml.replace(from, to));
    }

    private void insertAtAnchor(String snippet) throws IOException {
        Path path = routes.resolve("events.camel.yaml");
        List<String> lines = new ArrayList<>(Files.readAllLines(path));
        int anchor = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(EDIT_ANCHOR)) {
                anchor = i;
            }
        }
        assertThat(anchor).as("the edit anchor in events.camel.yaml").isNotNegative();
        String indent = lines.get(anchor).substring(0, lines.get(anchor).indexOf('#'));
        List<String> inserted = snippet.lines().map(line -> line.isEmpty() ? line : indent + line).toList();
        lines.addAll(anchor + 1, inserted);
        Files.write(path, lines);
    }

    private void start(Map<String, String> extra) {
        String queueUrl = emulators.createQueue("examples");
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_examples");
        properties.put("camel.main.routes-include-pattern", "file:" + routes.toAbsolutePath() + "/*.camel.yaml");
        properties.putAll(extra);
        service = PortalService.start(properties);
    }

    private JsonNode postEvents(String body) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(service.request("/api/events")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body());
    }

    private List<Document> documents(String collection) {
        return database.getCollection(collection).find().sort(new Document("created_at", 1).append("_id", 1))
                .into(new ArrayList<>());
    }

    private List<Integer> sizes(String collection) {
        return documents(collection).stream().map(d -> d.getList("data", Object.class).size()).toList();
    }

    private static String events(int count, java.util.function.IntFunction<String> name) {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            body.append(i == 0 ? "" : ",").append("{\"userIds\":[\"u").append(i).append("\"],\"eventName\":\"")
                    .append(name.apply(i)).append("\",\"eventMeta\":{\"seq\":").append(i).append("}}");
        }
        return body.append(']').toString();
    }
}
