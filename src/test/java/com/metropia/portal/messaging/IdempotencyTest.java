package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Events sent again with the same Idempotency-Key are never stored twice; the key cannot be reused for other events.
 */
class IdempotencyTest extends PortalTestSupport {

    @Test
    void should_store_1200_events_once_when_the_same_request_is_sent_twice() throws Exception {
        String body = events(1200, "r1");

        HttpResponse<String> first = postWithKey("key-1", body);
        HttpResponse<String> second = postWithKey("key-1", body);

        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(second.statusCode()).isEqualTo(201);
        assertThat(json(second).get("ids")).isEqualTo(json(first).get("ids"));
        assertThat(sendEvent().countDocuments()).isEqualTo(3);
    }

    @Test
    void should_store_only_the_missing_batch_when_a_partly_failed_request_is_retried() throws Exception {
        // batch 1 (events 500-999) is refused by MongoDB the first time: a unique index on the event names, and an
        // earlier document that holds event 700's name
        StringBuilder events = new StringBuilder("[");
        for (int i = 0; i < 1200; i++) {
            events.append(i == 0 ? "" : ",").append("{\"userIds\":[\"u").append(i).append("\"],\"eventName\":\"")
                    .append(i == 700 ? "poison" : "unique_" + i).append("\",\"eventMeta\":{\"seq\":").append(i).append("}}");
        }
        String poisoned = events.append(']').toString();
        sendEvent().createIndex(Indexes.ascending("data.eventName"), new IndexOptions().unique(true));
        sendEvent().insertOne(new Document("action", "blocker")
                .append("data", List.of(new Document("eventName", "poison"))));

        HttpResponse<String> first = postWithKey("key-2", poisoned);
        assertThat(first.statusCode()).isEqualTo(503);
        assertThat(json(first).get("documents").asInt()).isEqualTo(2);
        sendEvent().dropIndex(Indexes.ascending("data.eventName"));
        sendEvent().deleteMany(new Document("action", "blocker"));

        HttpResponse<String> retry = postWithKey("key-2", poisoned);

        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(201);
        JsonNode reply = json(retry);
        assertThat(reply.get("documents").asInt()).isEqualTo(3);
        List<Document> stored = storedDocuments();
        assertThat(stored).extracting(d -> d.getList("data", Object.class).size())
                .containsExactlyInAnyOrder(500, 500, 200);
        List<String> ids = new ArrayList<>();
        reply.get("ids").forEach(id -> ids.add(id.asText()));
        assertThat(stored).extracting(d -> String.valueOf(d.get("_id"))).containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    void should_answer_409_and_store_nothing_when_the_key_comes_back_with_other_events() throws Exception {
        assertThat(postWithKey("key-3", events(3, "first")).statusCode()).isEqualTo(201);

        HttpResponse<String> other = postWithKey("key-3", events(3, "second"));

        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(other.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(other).get("detail").asText()).contains("Idempotency-Key");
        assertThat(json(other).get("conflict").asText()).isEqualTo("key-reused");
        assertThat(other.headers().firstValue("Retry-After")).as("a retry cannot help").isEmpty();
        assertThat(sendEvent().countDocuments()).isEqualTo(1);
    }

    @Test
    void should_honour_the_key_from_a_java_caller_of_direct_events() throws Exception {
        String body = events(2, "java");

        Object first = service.producer().requestBodyAndHeader("direct:events", body, "Idempotency-Key", "key-4");
        Object second = service.producer().requestBodyAndHeader("direct:events", body, "Idempotency-Key", "key-4");

        assertThat(second).isEqualTo(first);
        assertThat(sendEvent().countDocuments()).isEqualTo(1);
    }

    @Test
    void should_send_a_task_once_and_answer_the_retry_with_the_same_message_id() throws Exception {
        String task = "{\"action\":\"process_payment\",\"data\":{\"payment_id\":\"pay_1\"}}";

        HttpResponse<String> first = postWithKey("/api/tasks", "task-key-1", task);
        HttpResponse<String> retry = postWithKey("/api/tasks", "task-key-1", task);

        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(retry.statusCode()).isEqualTo(202);
        assertThat(json(retry).get("messageId")).isEqualTo(json(first).get("messageId"));
        assertThat(receiveAll(2, Duration.ofSeconds(3))).singleElement().satisfies(message -> {
            assertThat(message.messageId()).isEqualTo(json(first).get("messageId").asText());
            // the task id a consumer drops copies by: SHA-256 (hex) of "task-key-1", computed outside the service
            assertThat(message.messageAttributes().get("taskId").stringValue())
                    .isEqualTo("6b9a8643c8ed4b7ee295a2193ac7db178e1e07f2bbb9c71c43080d26026a1a56");
        });
    }

    @Test
    void should_let_task_keys_expire_after_24_hours_by_default() throws Exception {
        assertThat(postWithKey("/api/tasks", "task-key-ttl", "{\"action\":\"a\",\"data\":{}}").statusCode())
                .isEqualTo(202);

        assertThat(mongo.getDatabase(database).getCollection("send_task_keys").listIndexes())
                .filteredOn(index -> index.get("key", Document.class).containsKey("created_at"))
                .singleElement().satisfies(index -> assertThat(index.get("expireAfterSeconds", Number.class).longValue())
                        .isEqualTo(24 * 3600));
    }

    @Test
    void should_answer_409_when_a_task_key_comes_back_with_another_task() throws Exception {
        assertThat(postWithKey("/api/tasks", "task-key-2", "{\"action\":\"a\",\"data\":{}}").statusCode())
                .isEqualTo(202);

        HttpResponse<String> other = postWithKey("/api/tasks", "task-key-2", "{\"action\":\"b\",\"data\":{}}");

        assertThat(other.statusCode()).isEqualTo(409);
        assertThat(json(other).get("conflict").asText()).isEqualTo("key-reused");
        assertThat(json(other).get("detail").asText()).contains("already used for another task");
        assertThat(other.headers().firstValue("Retry-After")).as("a retry cannot help").isEmpty();
        assertThat(receiveAll(2, Duration.ofSeconds(3))).hasSize(1);
    }

    /**
     * A key the request cannot be kept to is refused, not ignored (the caller believes its retries safe): an empty one,
     * and the header sent twice with different keys. Nothing is sent or stored.
     */
    @Test
    void should_answer_400_to_an_empty_key_or_two_keys_and_send_or_store_nothing() throws Exception {
        long stored = sendEvent().countDocuments();
        for (String path : List.of("/api/tasks", "/api/events")) {
            String body = path.endsWith("tasks") ? "{\"action\":\"a\",\"data\":{\"n\":6}}" : events(2, "keys");
            HttpResponse<String> empty = send(service.jsonPost(path, body).header("Idempotency-Key", ""));
            assertThat(empty.statusCode()).as(path + " " + empty.body()).isEqualTo(400);
            assertThat(json(empty).get("detail").asText()).contains("Idempotency-Key header is empty");

            HttpResponse<String> twice = send(service.jsonPost(path, body)
                    .header("Idempotency-Key", "key-6a").header("Idempotency-Key", "key-6b"));
            assertThat(twice.statusCode()).as(path + " " + twice.body()).isEqualTo(400);
            assertThat(json(twice).get("detail").asText()).contains("came 2 times");
        }
        assertThat(receiveAll(1, Duration.ofSeconds(2))).as("no task sent").isEmpty();
        assertThat(sendEvent().countDocuments()).as("no events stored").isEqualTo(stored);
    }

    /**
     * A key whose task another request is still sending (its record reserved, no answer in it yet, as another instance
     * leaves it while SQS answers): 409 in-progress with Retry-After, nothing sent; once the record has the answer,
     * the same request gets it.
     */
    @Test
    void should_answer_409_in_progress_with_retry_after_while_the_key_s_task_is_being_sent() throws Exception {
        String task = "{\"action\":\"a\",\"data\":{\"n\":5}}";
        HttpResponse<String> first = postWithKey("/api/tasks", "task-key-5", task);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        assertThat(receiveAll(1)).hasSize(1);
        var keys = mongo.getDatabase(database).getCollection("send_task_keys");
        Document record = keys.find().sort(new Document("created_at", -1)).first();
        assertThat(record.getString("messageId")).isEqualTo(json(first).get("messageId").asText());
        // as it was while the first request was being sent
        keys.updateOne(new Document("_id", record.get("_id")), new Document("$unset",
                new Document("messageId", "").append("md5OfBody", "")).append("$set",
                new Document("created_at", new java.util.Date())));

        HttpResponse<String> again = postWithKey("/api/tasks", "task-key-5", task);

        assertThat(again.statusCode()).as(again.body()).isEqualTo(409);
        assertThat(json(again).get("conflict").asText()).isEqualTo("in-progress");
        assertThat(json(again).get("detail").asText()).contains("is being sent");
        assertThat(again.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(receiveAll(1, Duration.ofSeconds(2))).as("nothing sent").isEmpty();

        keys.replaceOne(new Document("_id", record.get("_id")), record);
        HttpResponse<String> later = postWithKey("/api/tasks", "task-key-5", task);
        assertThat(later.statusCode()).as(later.body()).isEqualTo(202);
        assertThat(json(later).get("messageId").asText()).isEqualTo(json(first).get("messageId").asText());
    }

    @Test
    void should_send_a_task_kept_while_sqs_was_down_once_however_often_it_is_retried() throws Exception {
        String task = "{\"action\":\"a\",\"data\":{\"n\":3}}";
        try (SqsCut sqsCut = new SqsCut(emulators);
             PortalService withoutSqs = PortalService.start(sqsCut.through(
                     PortalService.emulatorProperties(emulators, queueUrl, database), queueUrl))) {
            sqsCut.cut();
            HttpResponse<String> kept = send(withoutSqs.request("/api/tasks")
                    .header("Content-Type", "application/json").header("Idempotency-Key", "task-key-3")
                    .POST(HttpRequest.BodyPublishers.ofString(task)));
            assertThat(kept.statusCode()).isEqualTo(202);
            assertThat(json(kept).get("fallback").asBoolean()).isTrue();
        }

        HttpResponse<String> retry = postWithKey("/api/tasks", "task-key-3", task);

        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
        // the redrive sends the kept task; the retry sent nothing of its own
        assertThat(receiveAll(2, Duration.ofSeconds(12))).singleElement()
                .satisfies(message -> assertThat(message.body()).isEqualTo(task));
    }

    private HttpResponse<String> postWithKey(String key, String body) throws Exception {
        return postWithKey("/api/events", key, body);
    }

    private HttpResponse<String> postWithKey(String path, String key, String body) throws Exception {
        return send(service.jsonPost(path, body).header("Idempotency-Key", key));
    }
}
