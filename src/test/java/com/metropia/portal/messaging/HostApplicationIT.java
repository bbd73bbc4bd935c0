package com.metropia.portal.messaging;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.metropia.portal.messaging.events.EventTypeSchemas;
import com.metropia.portal.messaging.host.HostApplication;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.Main;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * An existing camel-main application ({@link HostApplication}, its own properties) that embeds the routes packed in
 * the built jar (this test runs after {@code package}, with the jar instead of target/classes), without HTTP, and
 * brings its own SQS and MongoDB clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostApplicationIT {

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final String queueUrl = emulators.createQueue("host-app");
    private SqsClient hostSqs;
    private MongoClient hostMongo;
    private Main host;
    private ProducerTemplate template;

    @BeforeAll
    void startHost() {
        hostSqs = emulators.newSqsClient();
        hostMongo = MongoClients.create(emulators.mongoUri());
        host = HostApplication.create();
        host.bind("hostSqsClient", hostSqs);
        host.bind("hostMongoClient", hostMongo);
        host.addOverrideProperty("portal.sqs.queue-url", queueUrl);
        host.start();
        template = host.getCamelContext().createProducerTemplate();
    }

    @AfterAll
    void stopHost() {
        host.stop();
        hostSqs.close();
        hostMongo.close();
    }

    @Test
    void should_load_the_routes_from_the_built_jar() {
        assertThat(HostApplication.class.getClassLoader().getResource("portal-messaging/routes/events.camel.yaml"))
                .hasProtocol("jar")
                .asString().endsWith("/target/portal-messaging.jar!/portal-messaging/routes/events.camel.yaml");
    }

    @Test
    void should_use_the_host_clients_and_run_no_http_route() {
        assertThat(host.getCamelContext().getRegistry().lookupByName("portalSqsClient")).isNull();
        assertThat(host.getCamelContext().getRegistry().lookupByName("portalMongoClient")).isNull();
        assertThat(host.getCamelContext().getRoutes()).extracting(route -> route.getRouteId())
                .containsExactlyInAnyOrder("task-entry", "task-to-sqs", "task-batch-to-sqs", "task-redrive", "incentive-events", "milestone-events",
                        "event-batch-insert");
    }

    @Test
    void should_queue_a_task_through_direct_task() {
        Map<?, ?> task = template.requestBody("direct:task",
                Map.of("action", "book_ride", "data", Map.of("user_id", 12345)), Map.class);

        List<Message> messages = hostSqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(2)).messages();
        assertThat(messages).singleElement().satisfies(message -> {
            assertThat(message.messageId()).isEqualTo(task.get("messageId"));
            assertThat(message.body()).isEqualTo("{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}");
        });
    }

    @Test
    void should_store_501_events_as_500_and_1_in_send_event() {
        Map<?, ?> stored = template.requestBody("direct:events", events(501, "trip_completed"), Map.class);

        assertThat(stored.get("documents")).isEqualTo(2);
        List<Document> documents = database().getCollection("send_event").find().into(new ArrayList<>());
        assertThat(documents).extracting(d -> d.getList("data", Object.class).size())
                .containsExactlyInAnyOrder(500, 1);
        assertThat(documents).allSatisfy(d -> assertThat(d.getString("action")).isEqualTo("event"));
    }

    @Test
    void should_run_a_second_pipeline_made_from_the_template_by_properties() {
        Map<?, ?> stored = template.requestBody("direct:milestones", events(5, "milestone_achieved"), Map.class);

        assertThat(stored.get("documents")).isEqualTo(3);
        List<Document> documents = database().getCollection("milestone_event").find().into(new ArrayList<>());
        assertThat(documents).extracting(d -> d.getList("data", Object.class).size()).containsExactlyInAnyOrder(2, 2, 1);
        assertThat(documents).allSatisfy(d -> {
            assertThat(d.getString("action")).isEqualTo("event");
            assertThat(d.getList("data", Document.class)).allSatisfy(
                    event -> assertThat(event.getString("eventName")).isEqualTo("milestone_achieved"));
        });
    }

    @Test
    void should_check_events_against_the_event_type_schemas_packed_in_the_jar() {
        EventTypeSchemas eventTypes = host.getCamelContext().getRegistry()
                .lookupByNameAndType("portalEventTypes", EventTypeSchemas.class);
        assertThat(eventTypes.folders()).containsExactly("classpath:portal-messaging/routes/event-types");
        assertThat(HostApplication.class.getClassLoader()
                .getResource("portal-messaging/routes/event-types/trip_completed.schema.json")).hasProtocol("jar");
        List<Map<String, Object>> events = List.of(Map.of("userIds", List.of("1"), "eventName", "trip_completed",
                "eventMeta", Map.of("distance", "far")));

        Throwable thrown = catchThrowable(() -> template.requestBody("direct:events", events));

        assertThat(thrown.getCause()).isInstanceOf(InvalidRequestException.class);
        assertThat(((InvalidRequestException) thrown.getCause()).getErrors()).singleElement()
                .satisfies(error -> assertThat(error).containsEntry("index", 0)
                        .containsEntry("field", "eventMeta.distance"));
    }

    private MongoDatabase database() {
        return hostMongo.getDatabase("host_app");
    }

    private static List<Map<String, Object>> events(int count, String name) {
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            events.add(Map.of("userIds", List.of(String.valueOf(i)), "eventName", name, "eventMeta", Map.of("seq", i)));
        }
        return events;
    }
}
