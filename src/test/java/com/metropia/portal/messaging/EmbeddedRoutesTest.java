package com.metropia.portal.messaging;

import com.metropia.portal.messaging.events.EventsOutcome;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import org.apache.camel.CamelExecutionException;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The routes as a Java application uses them: the tasks and events route files in a CamelContext (the route test
 * kit), no HTTP server, only direct:task and direct:events.
 */
class EmbeddedRoutesTest extends RouteTestSupport {

    @Test
    void should_run_without_http_routes() {
        assertThat(context.getRoutes()).extracting(route -> route.getRouteId())
                .containsExactlyInAnyOrder("task-entry", "task-to-sqs", "task-batch-to-sqs", "task-redrive", "incentive-events", "event-batch-insert");
    }

    @Test
    void should_return_events_documents_and_ids_to_a_java_caller_of_direct_events() {
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < 1200; i++) {
            events.add(event("trip_completed", i));
        }

        Map<?, ?> reply = template.requestBody("direct:events", events, Map.class);

        assertThat(reply.get("events")).isEqualTo(1200);
        assertThat(reply.get("documents")).isEqualTo(3);
        List<Document> stored = storedDocuments();
        assertThat(((List<?>) reply.get("ids")).stream().map(String::valueOf).toList())
                .containsExactlyElementsOf(stored.stream().map(d -> d.getObjectId("_id").toHexString()).toList());
        assertThat(stored).extracting(d -> d.getList("data", Object.class).size()).containsExactly(500, 500, 200);
    }

    @Test
    void should_report_which_batch_failed_while_the_others_are_still_stored() {
        // A real MongoDB refusal: a unique index on the events' names, and an earlier document that holds "poison".
        sendEvent().createIndex(Indexes.ascending("data.eventName"), new IndexOptions().unique(true));
        sendEvent().insertOne(new Document("action", "event").append("data", List.of(new Document("eventName", "poison"))));
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < 1200; i++) {
            events.add(event(i == 700 ? "poison" : "unique_" + i, i));
        }

        Throwable thrown = catchThrowable(() -> template.requestBody("direct:events", events));

        assertThat(thrown).as("a call of direct:events whose batch 1 MongoDB refused must fail")
                .isInstanceOf(CamelExecutionException.class)
                .cause().as("the cause of the failed call").isInstanceOf(EventsNotStoredException.class);
        EventsOutcome outcome = ((EventsNotStoredException) thrown.getCause()).getOutcome();
        assertThat(outcome.events()).isEqualTo(1200);
        assertThat(outcome.storedEvents()).isEqualTo(700);
        assertThat(outcome.failures()).singleElement().satisfies(failure -> {
            assertThat(failure).containsEntry("batch", 1).containsEntry("firstEvent", 500)
                    .containsEntry("lastEvent", 999).containsEntry("events", 500);
            assertThat((String) failure.get("error")).contains("duplicate key");
        });
        // Batches 0 and 2 were attempted and stored, and their ids are the ones reported.
        List<Document> stored = sendEvent().find(new Document("data.eventName", new Document("$ne", "poison")))
                .into(new ArrayList<>());
        assertThat(stored).extracting(d -> d.getList("data", Object.class).size()).containsExactlyInAnyOrder(500, 200);
        assertThat(outcome.ids()).map(String::valueOf)
                .containsExactlyInAnyOrderElementsOf(stored.stream().map(d -> d.getObjectId("_id").toHexString()).toList());
    }

    @Test
    void should_refuse_before_storing_anything_a_batch_that_would_pass_the_16_mib_of_a_mongodb_document() {
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Map<String, Object> event = event("trip_completed", i);
            event.put("eventMeta", Map.of("blob", "x".repeat(i == 0 ? 10 : 9 * 1024 * 1024)));
            events.add(event);
        }

        Throwable thrown = catchThrowable(() -> template.requestBody("direct:events", events));

        assertThat(thrown).as("a call of direct:events with a batch larger than a MongoDB document must fail")
                .isInstanceOf(CamelExecutionException.class);
        assertThat(thrown.getCause()).as("the cause of the failed call").isInstanceOf(PayloadTooLargeException.class)
                .hasMessageContaining("Batch 0").hasMessageContaining("at event 2").hasMessageContaining("16 MiB");
        assertThat(sendEvent().countDocuments()).isZero();
    }

    @Test
    void should_send_a_task_given_as_a_json_string() {
        Map<?, ?> reply = template.requestBody("direct:task",
                "{\"action\":\"send_email\",\"data\":{\"to\":\"a@example.com\"}}", Map.class);

        List<Message> messages = receiveAll(1);
        assertThat(messages).singleElement().satisfies(message -> {
            assertThat(message.messageId()).isEqualTo(reply.get("messageId"));
            assertThat(message.body()).isEqualTo("{\"action\":\"send_email\",\"data\":{\"to\":\"a@example.com\"}}");
        });
    }

    @Test
    void should_throw_the_schema_errors_to_a_java_caller_and_store_nothing() {
        Throwable thrown = catchThrowable(() -> template.requestBody("direct:events",
                List.of(event("ok", 0), Map.of("userIds", List.of(), "eventName", "x", "eventMeta", Map.of()))));

        assertThat(thrown).as("a call of direct:events with an invalid event must fail")
                .isInstanceOf(CamelExecutionException.class)
                .cause().as("the cause of the failed call").isInstanceOf(InvalidRequestException.class);
        assertThat(((InvalidRequestException) thrown.getCause()).getErrors()).singleElement()
                .satisfies(error -> assertThat(error).containsEntry("index", 1).containsEntry("field", "userIds"));
        assertThat(sendEvent().countDocuments()).isZero();
    }

    private static Map<String, Object> event(String name, int seq) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("userIds", List.of(String.valueOf(seq)));
        event.put("eventName", name);
        event.put("eventMeta", Map.of("seq", seq));
        return event;
    }
}
