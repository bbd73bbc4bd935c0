package com.metropia.portal.messaging;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
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
        HttpResponse<String> response = send(service.request("/api/tasks")
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "fifo-task-1")
                .POST(HttpRequest.BodyPublishers.ofString("{\"action\":\"keyed\",\"data\":{}}")));

        assertThat(response.statusCode()).isEqualTo(202);
        List<Message> messages = receiveAll(1);
        assertThat(messages).singleElement().satisfies(message -> assertThat(message.attributes())
                .containsEntry(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID, Idempotency.sha256("fifo-task-1")));
    }

    @Test
    void should_be_running_against_a_fifo_queue() {
        assertThat(sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.FIFO_QUEUE))
                .attributes()).containsEntry(QueueAttributeName.FIFO_QUEUE, "true");
    }
}
