package com.metropia.portal.messaging;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Input meant to break the service: each gets a 4xx problem+json that says what is wrong, nothing is written, and the
 * service still answers afterwards.
 */
class HostileInputTest extends PortalTestSupport {

    @Test
    void should_refuse_10000_deep_nesting() throws Exception {
        String deep = "[".repeat(10_000) + "]".repeat(10_000);

        assertProblem(postJson("/api/events", deep), 400, "nesting");
        assertProblem(postJson("/api/tasks", "{\"action\":\"a\",\"data\":" + "{\"a\":".repeat(10_000) + "1"
                                             + "}".repeat(10_001)), 400, "nesting");
    }

    @Test
    void should_refuse_numbers_too_large_to_store() throws Exception {
        String event = "[{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"n\":%s}}]";

        HttpResponse<String> huge = postJson("/api/events", event.formatted("1e400"));
        assertProblem(huge, 400, "beyond a double");
        assertThat(json(huge).get("errors").get(0).get("index").asInt()).isZero();
        assertProblem(postJson("/api/events", event.formatted("123456789012345678901234567890")), 400,
                "beyond a 64-bit integer");
        assertProblem(postJson("/api/events", event.formatted("1" + "0".repeat(2000))), 400, "not valid JSON");
    }

    @Test
    void should_refuse_bytes_that_are_not_utf_8() throws Exception {
        byte[] body = "[{\"userIds\":[\"1\"],\"eventName\":\"caf\u00e9\",\"eventMeta\":{}}]"
                .getBytes(StandardCharsets.ISO_8859_1);

        assertProblem(send(service.request("/api/events")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))), 400, "UTF-8");
    }

    @Test
    void should_refuse_duplicate_keys_rather_than_pick_one() throws Exception {
        assertProblem(postJson("/api/tasks", "{\"action\":\"a\",\"action\":\"b\",\"data\":{}}"), 400, "Duplicate field");
    }

    @Test
    void should_refuse_json_of_the_wrong_kind_and_an_empty_body() throws Exception {
        assertProblem(postJson("/api/tasks", "\"just a string\""), 400, "object");
        assertProblem(postJson("/api/events", "42"), 400, "array");
        assertProblem(postJson("/api/events", ""), 400, "no body");
    }

    @Test
    void should_answer_413_naming_the_limit_for_a_task_over_the_sqs_limit() throws Exception {
        String task = "{\"action\":\"a\",\"data\":{\"blob\":\"" + "x".repeat(1_048_576) + "\"}}";

        HttpResponse<String> response = postJson("/api/tasks", task);

        assertProblem(response, 413, "1048576");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_answer_404_as_a_problem_for_an_unknown_path() throws Exception {
        assertProblem(postJson("/api/task", "{\"action\":\"a\",\"data\":{}}"), 404, "No resource at this path");
        assertProblem(send(service.request("/").GET()), 404, "POST /api/tasks");
    }

    @Test
    void should_answer_413_as_a_problem_for_a_body_over_the_server_limit() throws Exception {
        String events = "[" + "{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{\"pad\":\"%s\"}},"
                .formatted("x".repeat(1000)).repeat(11_000) + "{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{}}]";

        assertProblem(postJson("/api/events", events), 413, "camel.server.max-body-size");
    }

    private void assertProblem(HttpResponse<String> response, int status, String detail) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(response).get("detail").asText()).containsIgnoringCase(detail);
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue(json(response).get("requestId").asText());
        assertThat(sendEvent().countDocuments()).isZero();
        // still answering
        assertThat(postJson("/api/events", "[]").statusCode()).isEqualTo(200);
    }
}
