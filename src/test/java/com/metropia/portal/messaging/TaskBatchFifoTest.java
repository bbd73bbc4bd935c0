package com.metropia.portal.messaging;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import static org.assertj.core.api.Assertions.assertThat;

/** An array of tasks on a FIFO queue: one message group, a deduplication id per task, the order of the request. */
class TaskBatchFifoTest extends PortalTestSupport {

    @Override
    protected String queueName() {
        return "taskbatchfifotest.fifo";
    }

    @Test
    void should_send_12_tasks_in_request_order_in_one_message_group_with_a_deduplication_id_each() throws Exception {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < 12; i++) {
            body.append(i == 0 ? "" : ",").append("{\"action\":\"fifo\",\"data\":{\"n\":").append(i).append("}}");
        }
        HttpResponse<String> response = send(service.request("/api/tasks").header("Content-Type", "application/json")
                .header("Idempotency-Key", "fifo-batch-1").POST(HttpRequest.BodyPublishers.ofString(body + "]")));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode results = json(response).get("results");
        // a message group gives nothing more while messages of it are in flight: each received one is deleted
        List<Message> messages = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (messages.size() < 12 && System.nanoTime() < deadline) {
            List<Message> received = receiveAll(1);
            received.forEach(m -> sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle())));
            messages.addAll(received);
        }
        assertThat(messages).hasSize(12);
        for (int i = 0; i < 12; i++) {
            Message message = messages.get(i);
            assertThat(message.body()).isEqualTo("{\"action\":\"fifo\",\"data\":{\"n\":" + i + "}}");
            assertThat(message.messageId()).isEqualTo(results.get(i).get("messageId").asText());
            // passed on when SQS gives it (ElasticMQ 1.7 gives none in a SendMessageBatch answer)
            if (results.get(i).has("sequenceNumber")) {
                assertThat(message.attributesAsStrings().get(MessageSystemAttributeName.SEQUENCE_NUMBER.toString()))
                        .isEqualTo(results.get(i).get("sequenceNumber").asText());
            }
            assertThat(message.attributesAsStrings().get(MessageSystemAttributeName.MESSAGE_GROUP_ID.toString()))
                    .isEqualTo("portal-tasks");
            String taskId = message.messageAttributes().get("taskId").stringValue();
            assertThat(taskId).endsWith("-" + i);
            assertThat(message.attributesAsStrings().get(MessageSystemAttributeName.MESSAGE_DEDUPLICATION_ID.toString()))
                    .isEqualTo(taskId);
        }
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }
}
