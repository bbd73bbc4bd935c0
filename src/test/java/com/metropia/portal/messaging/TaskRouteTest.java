package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

class TaskRouteTest extends PortalTestSupport {

    @Test
    void should_queue_the_task_as_exactly_action_and_data_and_return_its_message_id() throws Exception {
        HttpResponse<String> response = postJson("/api/tasks",
                "{\"action\": \"user_registration\", \"data\": {\"user_id\": 12345, \"email\": \"user@example.com\","
                                                + " \"registration_time\": \"2024-01-15T10:30:00Z\"}}");

        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode reply = json(response);
        List<Message> messages = receiveAll(1);
        assertThat(messages).hasSize(1);
        Message message = messages.get(0);
        assertThat(message.body()).isEqualTo(
                "{\"action\":\"user_registration\",\"data\":{\"user_id\":12345,\"email\":\"user@example.com\","
                                             + "\"registration_time\":\"2024-01-15T10:30:00Z\"}}");
        assertThat(reply.get("messageId").asText()).isEqualTo(message.messageId());
        assertThat(reply.get("md5OfBody").asText()).isEqualTo(message.md5OfBody()).isEqualTo(md5(message.body()));
    }

    @Test
    void should_put_action_first_and_keep_decimals_and_unicode_as_sent() throws Exception {
        HttpResponse<String> response = postJson("/api/tasks",
                "{\n  \"data\": {\"payment_id\": \"pay_67890\", \"amount\": 25.50, \"note\": \"caf\u00e9 \u2713\"},\n"
                                                + "  \"action\": \"process_payment\"\n}");

        assertThat(response.statusCode()).isEqualTo(202);
        List<Message> messages = receiveAll(1);
        assertThat(messages).singleElement().extracting(Message::body).isEqualTo(
                "{\"action\":\"process_payment\",\"data\":{\"payment_id\":\"pay_67890\",\"amount\":25.50,"
                                                                                 + "\"note\":\"caf\u00e9 \u2713\"}}");
    }

    @Test
    void should_not_turn_any_http_header_into_an_sqs_message_attribute() throws Exception {
        HttpResponse<String> response = send(service.request("/api/tasks")
                .header("Content-Type", "application/json")
                // the caller's credentials, sent in both headers (every key a request sends must be valid)
                .header("Authorization", "Bearer " + PortalService.API_KEY)
                .header("X-Api-Key", PortalService.API_KEY)
                .header("X-Request-Id", "req-1")
                .header("Cookie", "session=abc")
                .POST(HttpRequest.BodyPublishers.ofString("{\"action\":\"a\",\"data\":{}}")));

        assertThat(response.statusCode()).isEqualTo(202);
        Message message = receiveAll(1).get(0);
        // the one attribute is the task's own id, new for a task without an Idempotency-Key
        assertThat(message.messageAttributes()).containsOnlyKeys("taskId");
        assertThat(message.messageAttributes().get("taskId").dataType()).isEqualTo("String");
        assertThat(message.messageAttributes().get("taskId").stringValue())
                .matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(message.body()).isEqualTo("{\"action\":\"a\",\"data\":{}}");
        // Nor does anything of the request, or of SQS, come back as a response header, but the request id.
        assertThat(response.headers().map().keySet())
                .allSatisfy(name -> assertThat(name.toLowerCase())
                        .isIn(":status", "content-type", "content-length", "transfer-encoding", "x-request-id"));
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue("req-1");
    }

    @Test
    void should_answer_400_naming_the_field_and_queue_nothing_for_an_invalid_task() throws Exception {
        for (Map.Entry<String, String> invalid : Map.of(
                "{\"action\": \"\", \"data\": {}}", "action",
                "{\"action\": \"a\", \"data\": [1, 2]}", "data",
                "{\"action\": 7, \"data\": {}}", "action",
                "{\"data\": {}}", "action",
                "{\"action\": \"a\", \"data\": {}, \"extra\": 1}", "extra").entrySet()) {
            HttpResponse<String> response = postJson("/api/tasks", invalid.getKey());

            assertThat(response.statusCode()).as(invalid.getKey()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            JsonNode problem = json(response);
            assertThat(problem.get("status").asInt()).isEqualTo(400);
            assertThat(problem.get("errors").findValuesAsText("field")).as(invalid.getKey())
                    .contains(invalid.getValue());
        }
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
        assertThat(sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNamesWithStrings("All"))
                .attributesAsStrings()).containsEntry("ApproximateNumberOfMessages", "0");
    }

    @Test
    void should_answer_problems_for_malformed_json_wrong_method_and_wrong_content_type() throws Exception {
        HttpResponse<String> malformed = postJson("/api/tasks", "{\"action\": \"a\", \"data\": {");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(json(malformed).get("detail").asText()).startsWith("The body is not valid JSON");

        HttpResponse<String> get = send(service.request("/api/tasks").GET());
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertThat(get.headers().firstValue("Content-Type")).hasValue("application/problem+json");

        HttpResponse<String> form = post("/api/tasks", "text/plain", "{\"action\":\"a\",\"data\":{}}");
        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(json(form).get("title").asText()).isEqualTo("Unsupported Media Type");

        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_return_the_sqs_identifiers_to_a_java_caller_of_direct_task() {
        Map<?, ?> reply = service.producer().requestBody("direct:task",
                Map.of("action", "book_ride", "data", Map.of("user_id", 12345)), Map.class);

        Message message = receiveAll(1).get(0);
        assertThat(reply.get("messageId")).isEqualTo(message.messageId());
        assertThat(message.body()).isEqualTo("{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}");
    }

    private static String md5(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
