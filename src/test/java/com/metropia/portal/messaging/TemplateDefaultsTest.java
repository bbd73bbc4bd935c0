package com.metropia.portal.messaging;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pipelines made from the route templates by {@code camel.routeTemplate[...]} properties, given only what differs:
 * every parameter left out follows the application's {@code portal.*} setting, not a default of the template.
 */
class TemplateDefaultsTest extends PortalTestSupport {

    @Override
    protected Map<String, String> extraProperties() {
        return Map.ofEntries(
                Map.entry("camel.server.enabled", "false"),
                Map.entry("camel.main.routes-include-pattern", "file:routes/tasks.camel.yaml,file:routes/events.camel.yaml"),
                // the README example, as written there (no database: portal.mongodb.database is this class's own)
                Map.entry("camel.routeTemplate[milestone-events].templateId", "incentive-event-batcher"),
                Map.entry("camel.routeTemplate[milestone-events].from", "direct:milestones"),
                Map.entry("camel.routeTemplate[milestone-events].batchSize", "2"),
                Map.entry("camel.routeTemplate[milestone-events].collection", "milestone_event"),
                // only an endpoint: batch size, database and collection from the settings
                Map.entry("camel.routeTemplate[more-events].templateId", "incentive-event-batcher"),
                Map.entry("camel.routeTemplate[more-events].from", "direct:more-events"),
                Map.entry("portal.events.batch-size", "3"),
                // only an endpoint: queue (by name), message group, database of the fallback from the settings
                Map.entry("camel.routeTemplate[audit-tasks].templateId", "task-sender"),
                Map.entry("camel.routeTemplate[audit-tasks].from", "direct:audit-tasks"));
    }

    @Test
    void should_store_the_readme_example_pipeline_in_the_database_of_portal_mongodb_database() {
        Map<?, ?> stored = service.producer().requestBody("direct:milestones", events(5, "milestone_achieved"), Map.class);

        assertThat(stored.get("documents")).isEqualTo(3);
        List<Document> documents = mongo.getDatabase(database).getCollection("milestone_event").find()
                .into(new ArrayList<>());
        assertThat(documents).extracting(d -> d.getList("data", Object.class).size()).containsExactlyInAnyOrder(2, 2, 1);
        assertThat(mongo.getDatabase("portal").getCollection("milestone_event").countDocuments()).isZero();
    }

    @Test
    void should_take_batch_size_database_and_collection_of_a_pipeline_given_only_its_endpoint_from_the_settings() {
        Map<?, ?> stored = service.producer().requestBody("direct:more-events", events(7, "trip_completed"), Map.class);

        assertThat(stored.get("documents")).isEqualTo(3);
        // portal.mongodb.collection is send_event by default, in this class's database
        assertThat(storedDocuments()).extracting(d -> d.getList("data", Object.class).size()).containsExactly(3, 3, 1);
    }

    @Test
    void should_send_the_tasks_of_a_pipeline_given_only_its_endpoint_to_the_queue_of_portal_sqs_queue() {
        Map<?, ?> task = service.producer().requestBody("direct:audit-tasks",
                Map.of("action", "audit", "data", Map.of("user_id", 3)), Map.class);

        List<Message> messages = receiveAll(1);
        assertThat(messages).singleElement().satisfies(message -> {
            assertThat(message.messageId()).isEqualTo(task.get("messageId"));
            assertThat(message.body()).isEqualTo("{\"action\":\"audit\",\"data\":{\"user_id\":3}}");
        });
    }
}
