package com.metropia.portal.messaging;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.model.Filters;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static com.metropia.portal.messaging.TaskBatchTest.BATCH_ENTRIES;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An array of tasks whose entries SQS fails on its own side (SenderFault=false, which ElasticMQ never answers: the
 * test's SQS client plays it, see {@link TaskBatchTest.CountingSqsClient}): only those entries are sent again, up to
 * {@code portal.sqs.max-attempts} calls, and one still not taken is kept in the fallback collection.
 */
class TaskBatchRetryTest extends PortalTestSupport {

    @Override
    protected Map<String, String> extraProperties() {
        Map<String, String> properties = new HashMap<>();
        properties.put("portal.sqs.max-attempts", "4");
        properties.put("portal.sqs.retry-base-delay-ms", "50");
        return TaskBatchTest.withTheRedriveOnceAtStart(properties);
    }

    @Override
    protected Class<?>[] configurationsFirst() {
        return new Class<?>[] {TaskBatchTest.CountingSqsClient.class};
    }

    /** The redrive's timer fires once a second after the start, then once an hour: the tests start after it. */
    @BeforeAll
    void afterTheFirstRedrive() {
        TaskBatchTest.awaitTheRedrivesFirstRun(service);
    }

    @BeforeEach
    void resetCalls() {
        BATCH_ENTRIES.clear();
    }

    @Test
    void should_send_again_only_the_entries_sqs_failed_on_its_side_and_queue_each_task_once() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            bodies.add("{\"action\":\"" + (i == 2 ? "sqs_side_fault_once" : "a") + "\",\"data\":{\"n\":" + i + "}}");
        }
        HttpResponse<String> response = postJson("/api/tasks", "[" + String.join(",", bodies) + "]");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode reply = json(response);
        assertThat(reply.get("sent").asInt()).as(response.body()).isEqualTo(5);
        assertThat(reply.get("kept").asInt()).isZero();
        assertThat(reply.get("failed").asInt()).isZero();
        assertThat(BATCH_ENTRIES).as("the five, then the one SQS failed on its side, alone")
                .containsExactly(bodies, List.of(bodies.get(2)));
        Map<String, String> queued = new HashMap<>();
        receiveAll(5).forEach(message -> queued.put(message.messageId(), message.body()));
        for (int i = 0; i < 5; i++) {
            assertThat(queued.get(reply.get("results").get(i).get("messageId").asText())).as("task " + i)
                    .isEqualTo(bodies.get(i));
        }
        assertThat(receiveAll(1, Duration.ofSeconds(1))).as("no task twice").isEmpty();
    }

    @Test
    void should_keep_in_mongodb_an_entry_sqs_failed_on_its_side_at_every_attempt_and_send_the_others() throws Exception {
        String always = "{\"action\":\"sqs_side_fault_always\",\"data\":{\"n\":1}}";
        HttpResponse<String> response = postJson("/api/tasks",
                "[{\"action\":\"a\",\"data\":{\"n\":0}}," + always + ",{\"action\":\"a\",\"data\":{\"n\":2}}]");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode reply = json(response);
        assertThat(reply.get("sent").asInt()).as(response.body()).isEqualTo(2);
        assertThat(reply.get("kept").asInt()).isEqualTo(1);
        // portal.sqs.max-attempts = 4: the three, then the one alone three more times
        assertThat(BATCH_ENTRIES).hasSize(4).element(0).asList().hasSize(3);
        assertThat(BATCH_ENTRIES.subList(1, 4)).allSatisfy(entries -> assertThat(entries).containsExactly(always));
        JsonNode kept = reply.get("results").get(1);
        assertThat(kept.get("fallback").asBoolean()).as(response.body()).isTrue();
        Document document = mongo.getDatabase(database).getCollection("send_task_fallback")
                .find(Filters.eq("_id", new ObjectId(kept.get("fallbackId").asText()))).first();
        assertThat(document).isNotNull();
        assertThat(document.getString("body")).isEqualTo(always);
        assertThat(document.getString("reason")).contains("InternalError");
        assertThat(receiveAll(2)).extracting(Message::body).containsExactlyInAnyOrder(
                "{\"action\":\"a\",\"data\":{\"n\":0}}", "{\"action\":\"a\",\"data\":{\"n\":2}}");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
        // the redrive would send it once its time comes, into the queue the next test reads
        mongo.getDatabase(database).getCollection("send_task_fallback").deleteOne(Filters.eq("_id",
                document.getObjectId("_id")));
    }

}
