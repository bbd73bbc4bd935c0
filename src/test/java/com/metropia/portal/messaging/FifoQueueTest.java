package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tasks on a FIFO queue: one message group, in order, and the caller learns the sequence number.
 */
class FifoQueueTest extends PortalTestSupport {

    @Override
    protected String queueName() {
        return "fifo-tasks.fifo";
    }

    @Override
    protected Map<String, String> extraProperties() {
        return Map.of("portal.sqs.message-group-id", "portal-web");
    }

    @Test
    void should_queue_tasks_in_one_message_group_and_return_their_sequence_numbers() throws Exception {
        HttpResponse<String> first = postJson("/api/tasks", "{\"action\":\"first\",\"data\":{}}");
        HttpResponse<String> second = postJson("/api/tasks", "{\"action\":\"second\",\"data\":{}}");

        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(second.statusCode()).isEqualTo(202);
        JsonNode firstReply = json(first);
        JsonNode secondReply = json(second);
        List<Message> messages = receiveAll(2);
        assertThat(messages).extracting(Message::body)
                .containsExactly("{\"action\":\"first\",\"data\":{}}", "{\"action\":\"second\",\"data\":{}}");
        assertThat(messages).allSatisfy(message -> assertThat(message.attributes())
                .containsEntry(MessageSystemAttributeName.MESSAGE_GROUP_ID, "portal-web"));
        assertThat(firstReply.get("sequenceNumber").asText())
                .isEqualTo(messages.get(0).attributes().get(MessageSystemAttributeName.SEQUENCE_NUMBER));
        assertThat(secondReply.get("sequenceNumber").asText())
                .isEqualTo(messages.get(1).attributes().get(MessageSystemAttributeName.SEQUENCE_NUMBER));
        assertThat(firstReply.get("messageId").asText()).isEqualTo(messages.get(0).messageId());
    }

    @Test
    void should_make_the_idempotency_key_the_deduplication_id_so_sqs_drops_a_second_copy() throws Exception {
        String task = "{\"action\":\"keyed\",\"data\":{}}";
        // SHA-256 (hex) of "fifo-task-1", computed outside the service
        String expectedId = "c327eba4ba664653802fad697a5867fdc63c7b42218034d64b9691033f7af85a";
        HttpResponse<String> first = postKeyed("fifo-task-1", task);
        assertThat(first.statusCode()).isEqualTo(202);
        // the key's record is lost (as when the service dies between SQS's answer and the record): the retry sends a
        // second copy, with the same deduplication id
        assertThat(mongo.getDatabase(database).getCollection("send_task_keys")
                .deleteOne(new Document("_id", expectedId)).getDeletedCount()).isEqualTo(1);
        HttpResponse<String> second = postKeyed("fifo-task-1", task);

        assertThat(second.statusCode()).isEqualTo(202);
        Document record = mongo.getDatabase(database).getCollection("send_task_keys")
                .find(new Document("_id", expectedId)).first();
        assertThat(record).as("the second copy went to SQS and was recorded").isNotNull();
        assertThat(record.getString("messageId")).isNotNull();
        List<Message> messages = receiveAll(2, Duration.ofSeconds(3));
        assertThat(messages).singleElement().satisfies(message -> {
            assertThat(message.body()).isEqualTo(task);
            assertThat(message.attributes()).containsEntry(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID, expectedId);
            assertThat(message.messageAttributes().get("taskId").stringValue()).isEqualTo(expectedId);
        });
    }

    private HttpResponse<String> postKeyed(String key, String body) throws Exception {
        return send(service.request("/api/tasks")
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    @Test
    void should_be_running_against_a_fifo_queue() {
        assertThat(sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.FIFO_QUEUE))
                .attributes()).containsEntry(QueueAttributeName.FIFO_QUEUE, "true");
    }
}
