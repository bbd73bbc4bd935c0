package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.metropia.portal.messaging.bench.FaultProxy;
import com.mongodb.client.MongoCollection;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The request id of a call is stored as a top-level request_id on what it wrote to MongoDB (each send_event document,
 * each kept task), after the fields their readers take; it never travels to SQS.
 */
class RequestIdStorageTest extends PortalTestSupport {

    private FaultProxy sqsProxy;

    @Override
    protected Map<String, String> extraProperties() {
        sqsProxy = FaultProxy.start("sqs", "127.0.0.1", emulators.sqsPort());
        return Map.of(
                "portal.sqs.endpoint", "http://127.0.0.1:" + sqsProxy.port(),
                "portal.sqs.queue-url", emulators.createQueue(queueName()),
                "portal.sqs.max-attempts", "1",
                "portal.events.batch-size", "2",
                // the kept tasks stay where the test reads them
                "portal.tasks.redrive-period-ms", "600000");
    }

    @AfterAll
    void stopProxy() {
        if (sqsProxy != null) {
            sqsProxy.close();
        }
    }

    @Test
    void should_store_the_callers_request_id_on_every_send_event_document_after_the_fields_readers_take()
            throws Exception {
        HttpResponse<String> response = send(service.jsonPost("/api/events", events(5, "rid"))
                .header("X-Request-Id", "caller-events-1"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue("caller-events-1");
        List<Document> stored = storedDocuments();
        assertThat(stored).hasSize(3).allSatisfy(document -> {
            assertThat(new ArrayList<>(document.keySet()))
                    .containsExactly("_id", "action", "data", "created_at", "request_id");
            assertThat(document.getString("request_id")).isEqualTo("caller-events-1");
        });
    }

    @Test
    void should_store_the_generated_request_id_the_answer_carries_when_the_caller_sent_none() throws Exception {
        HttpResponse<String> response = postJson("/api/events", events(1, "generated"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        String answered = response.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(storedDocuments()).singleElement()
                .satisfies(document -> assertThat(document.getString("request_id")).isEqualTo(answered));
    }

    @Test
    void should_replace_an_unsafe_request_id_and_store_the_one_answered() throws Exception {
        HttpResponse<String> response = send(service.jsonPost("/api/events", events(1, "unsafe"))
                .header("X-Request-Id", "two words"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        String answered = response.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(answered).isNotEqualTo("two words");
        assertThat(storedDocuments()).singleElement()
                .satisfies(document -> assertThat(document.getString("request_id")).isEqualTo(answered));
    }

    @Test
    void should_store_a_java_callers_request_id_header_and_no_field_without_one() {
        service.producer().requestBodyAndHeader("direct:events", events(3, "java"), "X-Request-Id", "java-call-1");
        service.producer().requestBody("direct:events", events(1, "java-none"));

        List<Document> stored = storedDocuments();
        assertThat(stored).hasSize(3);
        assertThat(stored.subList(0, 2)).allSatisfy(document ->
                assertThat(document.getString("request_id")).isEqualTo("java-call-1"));
        assertThat(stored.get(2)).doesNotContainKey("request_id");
        assertThat(new ArrayList<>(stored.get(2).keySet())).containsExactly("_id", "action", "data", "created_at");
    }

    @Test
    void should_keep_the_first_request_id_on_documents_a_retry_with_the_same_idempotency_key_finds_stored()
            throws Exception {
        String body = events(3, "retried");
        HttpResponse<String> first = send(service.jsonPost("/api/events", body)
                .header("Idempotency-Key", "rid-key-1").header("X-Request-Id", "first-try"));
        HttpResponse<String> retry = send(service.jsonPost("/api/events", body)
                .header("Idempotency-Key", "rid-key-1").header("X-Request-Id", "second-try"));

        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(retry.statusCode()).as(retry.body()).isIn(200, 201);
        assertThat(json(retry).get("ids")).isEqualTo(json(first).get("ids"));
        assertThat(storedDocuments()).hasSize(2).allSatisfy(document ->
                assertThat(document.getString("request_id")).isEqualTo("first-try"));
    }

    @Test
    void should_store_the_request_id_on_a_kept_task_and_never_send_it_to_sqs() throws Exception {
        String task = "{\"action\":\"rid\",\"data\":{\"n\":1}}";
        HttpResponse<String> sent = send(service.jsonPost("/api/tasks", task).header("X-Request-Id", "task-sent-1"));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(202);
        // a task another test kept may be redriven meanwhile: only this one is looked at
        Message message = receiveAll(1).stream().filter(m -> m.body().equals(task)).findFirst().orElseThrow();
        assertThat(message.messageAttributes()).containsOnlyKeys("taskId");

        // SQS stays down while the record is read, so the redrive cannot send it and delete it first
        sqsProxy.down();
        try {
            String keptTask = "{\"action\":\"rid\",\"data\":{\"n\":3}}";
            HttpResponse<String> kept = send(service.jsonPost("/api/tasks", keptTask)
                    .header("X-Request-Id", "task-kept-1"));

            assertThat(kept.statusCode()).as(kept.body()).isEqualTo(202);
            JsonNode reply = json(kept);
            assertThat(reply.get("fallback").asBoolean()).isTrue();
            Document record = fallback().find(new Document("_id", new ObjectId(reply.get("fallbackId").asText())))
                    .first();
            assertThat(record).isNotNull();
            assertThat(record.getString("request_id")).isEqualTo("task-kept-1");
            assertThat(record.getString("body")).isEqualTo(keptTask);
            List<String> keys = new ArrayList<>(record.keySet());
            assertThat(keys.indexOf("request_id")).isEqualTo(keys.indexOf("created_at") + 1);
        } finally {
            sqsProxy.up();
        }
    }

    @Test
    void should_keep_a_java_callers_task_without_request_id_field_when_it_set_none() {
        sqsProxy.down();
        try {
            Object reply = service.producer().requestBody("direct:task", "{\"action\":\"rid\",\"data\":{\"n\":2}}");

            assertThat(reply).isInstanceOf(Map.class);
            Object id = ((Map<?, ?>) reply).get("fallbackId");
            Document record = fallback().find(new Document("_id", new ObjectId(String.valueOf(id)))).first();
            assertThat(record).isNotNull().doesNotContainKey("request_id");
        } finally {
            sqsProxy.up();
        }
    }

    private MongoCollection<Document> fallback() {
        return mongo.getDatabase(database).getCollection("send_task_fallback");
    }
}
