package com.metropia.portal.messaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

import org.bson.Document;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's "Editing routes" examples, each applied to a copy of routes/ exactly as written there and run on the
 * route test kit.
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

    @Test
    void the_readme_shows_exactly_the_example_route_test() throws IOException {
        String example = Files.readString(Path.of("src/test/java/com/metropia/portal/messaging/ExampleRouteTest.java"));
        assertThat(Files.readString(Path.of("README.md")))
                .as("README, \"Editing routes\": the route test shown must be ExampleRouteTest.java as it is")
                .contains("```java\n" + example + "```\n");
    }

    @Nested
    class Example1BatchSize200 extends OnEditedCopy {

        @Override
        void edit(Path routes) throws IOException {
            replace(routes.resolve("events.camel.yaml"), "value: \"{{portal.events.batch-size}}\"", "value: \"200\"");
        }

        @Test
        void example_1_batch_size_200_stores_450_events_as_200_200_50() {
            Map<?, ?> reply = postEvents(namedEvents(450, i -> "trip_completed"));

            assertThat(reply.get("documents")).as("documents in the reply").isEqualTo(3);
            assertThat(sizes("send_event")).as("events per document").containsExactly(200, 200, 50);
        }
    }

    @Nested
    class Example2DenyList extends OnEditedCopy {

        @Override
        void edit(Path routes) throws IOException {
            insertAtAnchor(routes, DENY_LIST_EDIT);
        }

        @Override
        protected Map<String, String> properties() {
            return Map.of("portal.events.deny-list", "test_ping,debug_event");
        }

        @Test
        void example_2_deny_list_drops_the_named_events_before_batching() {
            // the last event is denied too: its batch still completes at once
            Map<?, ?> reply = postEvents(namedEvents(1003,
                    i -> i % 2 == 0 ? "test_ping" : i == 1002 ? "debug_event" : "trip_completed"));

            assertThat(reply.get("events")).as("events in the reply").isEqualTo(1003);
            assertThat(reply.get("droppedEvents")).as("droppedEvents in the reply").isEqualTo(502);
            assertThat(reply.get("documents")).as("documents in the reply").isEqualTo(2);
            List<Document> stored = documents("send_event");
            assertThat(stored).as("events per document").extracting(d -> d.getList("data", Object.class).size())
                    .containsExactly(500, 1);
            assertThat(stored).flatExtracting(d -> d.getList("data", Document.class))
                    .extracting(e -> e.getString("eventName")).as("names of the stored events")
                    .containsOnly("trip_completed");
        }
    }

    @Nested
    class Example3Milestones extends OnEditedCopy {

        @Override
        void edit(Path routes) throws IOException {
            insertAtAnchor(routes, MILESTONES_EDIT);
        }

        @Test
        void example_3_milestones_go_to_their_own_collection_in_their_own_batches() {
            Map<?, ?> reply = postEvents(namedEvents(1200, i -> i % 3 == 0 ? "milestone_achieved" : "trip_completed"));

            assertThat(reply.get("documents")).as("documents in the reply").isEqualTo(3);
            assertThat(reply.get("idsByCollection")).as("idsByCollection in the reply").isInstanceOf(Map.class);
            assertThat((List<?>) ((Map<?, ?>) reply.get("idsByCollection")).get("milestone_event"))
                    .as("ids of milestone_event documents in the reply").hasSize(1);
            assertThat(sizes("milestone_event")).as("events per milestone_event document").containsExactly(400);
            assertThat(sizes("send_event")).as("events per send_event document").containsExactly(500, 300);
            assertThat(documents("milestone_event").get(0).getList("data", Document.class))
                    .extracting(e -> e.getString("eventName")).containsOnly("milestone_achieved");
            assertThat(documents("send_event")).flatExtracting(d -> d.getList("data", Document.class))
                    .extracting(e -> e.get("eventMeta", Document.class).getInteger("seq"))
                    .isSorted().doesNotContain(0, 3, 6);
        }
    }

    /** A route test on a copy of routes/ that the example edits before the routes are loaded. */
    abstract static class OnEditedCopy extends RouteTestSupport {

        @TempDir
        Path copy;

        abstract void edit(Path routes) throws IOException;

        @Override
        protected Path routesFolder() {
            try {
                PortalService.copyRoutes(copy);
                edit(copy);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return copy;
        }

        Map<?, ?> postEvents(String body) {
            return template.requestBody("direct:events", body, Map.class);
        }

        List<Document> documents(String collection) {
            return mongo.getDatabase(database).getCollection(collection).find()
                    .sort(new Document("created_at", 1).append("_id", 1)).into(new ArrayList<>());
        }

        List<Integer> sizes(String collection) {
            return documents(collection).stream().map(d -> d.getList("data", Object.class).size()).toList();
        }
    }

    static void replace(Path file, String from, String to) throws IOException {
        String yaml = Files.readString(file);
        assertThat(yaml).as("the text the example changes in %s", file.getFileName()).contains(from);
        Files.writeString(file, yaml.replace(from, to));
    }

    static void insertAtAnchor(Path routes, String snippet) throws IOException {
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

    static String namedEvents(int count, IntFunction<String> name) {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            body.append(i == 0 ? "" : ",").append("{\"userIds\":[\"u").append(i).append("\"],\"eventName\":\"")
                    .append(name.apply(i)).append("\",\"eventMeta\":{\"seq\":").append(i).append("}}");
        }
        return body.append(']').toString();
    }
}
