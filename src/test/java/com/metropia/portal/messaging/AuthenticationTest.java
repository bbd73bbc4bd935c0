package com.metropia.portal.messaging;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may call: only a request with one of the API keys reaches SQS or MongoDB; health stays open, metrics do not.
 */
class AuthenticationTest extends PortalTestSupport {

    private static final String TASK = "{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}";
    private static final String EVENTS = "[{\"userIds\":[\"1\"],\"eventName\":\"trip_completed\",\"eventMeta\":{}}]";
    /** A second key, configured with blanks around it and an empty entry. */
    private static final String OTHER_KEY = "other-key-5d2b";

    @Override
    protected Map<String, String> extraProperties() {
        return Map.of("portal.api-keys", " " + OTHER_KEY + " , ," + PortalService.API_KEY + " ");
    }

    @Test
    void should_answer_401_with_a_challenge_and_queue_nothing_for_a_task_without_a_key() throws Exception {
        HttpResponse<String> response = send(post("/api/tasks", TASK));

        assertUnauthorized(response, "No API key");
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"portal-messaging\"");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_answer_401_and_store_nothing_for_events_without_a_key() throws Exception {
        HttpResponse<String> response = send(post("/api/events", EVENTS));

        assertUnauthorized(response, "No API key");
        assertThat(sendEvent().countDocuments()).isZero();
    }

    @Test
    void should_answer_401_and_queue_nothing_for_a_wrong_key() throws Exception {
        HttpResponse<String> response = send(post("/api/tasks", TASK).header("X-API-Key", "wrong-key"));

        assertUnauthorized(response, "not valid");
        assertThat(response.headers().firstValue("WWW-Authenticate"))
                .hasValue("Bearer realm=\"portal-messaging\", error=\"invalid_token\"");
        assertThat(response.body()).doesNotContain("wrong-key");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_refuse_an_empty_key_although_the_list_has_an_empty_entry() throws Exception {
        HttpResponse<String> response = send(post("/api/tasks", TASK).header("X-API-Key", ""));

        assertUnauthorized(response, "not valid");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    /** A wrong key beside a valid one is refused whatever their order, not one of them taken. */
    @Test
    void should_answer_401_and_queue_nothing_when_a_key_of_the_request_is_wrong_beside_a_valid_one() throws Exception {
        String good = "Bearer " + PortalService.API_KEY;
        List<HttpResponse<String>> responses = List.of(
                send(post("/api/tasks", TASK).header("Authorization", good).header("Authorization", "Bearer wrong")),
                send(post("/api/tasks", TASK).header("Authorization", "Bearer wrong").header("Authorization", good)),
                send(post("/api/tasks", TASK).header("Authorization", good).header("X-API-Key", "wrong")),
                send(post("/api/tasks", TASK).header("X-API-Key", "wrong").header("X-API-Key", PortalService.API_KEY)));

        assertThat(responses).allSatisfy(response -> assertUnauthorized(response, "not valid"));
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();

        HttpResponse<String> same = send(post("/api/tasks", TASK).header("Authorization", good)
                .header("X-API-Key", OTHER_KEY));
        assertThat(same.statusCode()).as("two valid keys: " + same.body()).isEqualTo(202);
        assertThat(receiveAll(1)).hasSize(1);
    }

    @Test
    void should_queue_a_task_sent_with_the_key_as_a_bearer_token() throws Exception {
        HttpResponse<String> response = send(post("/api/tasks", TASK)
                .header("Authorization", "Bearer " + PortalService.API_KEY));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        assertThat(receiveAll(1)).singleElement().extracting(Message::body).isEqualTo(TASK);
    }

    @Test
    void should_queue_a_task_sent_with_the_key_in_x_api_key() throws Exception {
        HttpResponse<String> response = send(post("/api/tasks", TASK).header("X-API-Key", PortalService.API_KEY));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        assertThat(receiveAll(1)).singleElement().extracting(Message::body).isEqualTo(TASK);
    }

    @Test
    void should_take_any_of_the_configured_keys_trimmed() throws Exception {
        HttpResponse<String> response = send(post("/api/tasks", TASK).header("Authorization", "bearer " + OTHER_KEY));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        assertThat(receiveAll(1)).singleElement().extracting(Message::body).isEqualTo(TASK);
    }

    @Test
    void should_store_events_sent_with_a_key() throws Exception {
        HttpResponse<String> response = send(post("/api/events", EVENTS).header("X-API-Key", PortalService.API_KEY));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        assertThat(storedDocuments()).singleElement()
                .satisfies(document -> assertThat(document.getString("action")).isEqualTo("event"));
    }

    @Test
    void should_leave_health_and_its_sub_paths_open() throws Exception {
        for (String path : new String[] {"/observe/health", "/observe/health/live", "/observe/health/ready"}) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(service.uri(path)).GET());

            assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
        }
    }

    @Test
    void should_answer_401_for_metrics_without_a_key() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(service.uri("/observe/metrics")).GET());

        assertUnauthorized(response, "No API key");
    }

    @Test
    void should_serve_metrics_with_a_key() throws Exception {
        HttpResponse<String> response = send(service.request("/observe/metrics").GET());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("# TYPE");
    }

    @Test
    void should_not_open_metrics_through_a_path_that_climbs_out_of_health() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(service.uri("/observe/health/../metrics")).GET());

        assertUnauthorized(response, "No API key");
    }

    @Test
    void should_answer_401_rather_than_404_for_an_unknown_path_without_a_key() throws Exception {
        assertUnauthorized(send(HttpRequest.newBuilder(service.uri("/admin")).GET()), "No API key");
    }

    @Test
    void should_answer_401_before_the_body_arrives() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", service.uri("/").getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            // a body of 5 MB is announced and never sent: only an answer that does not wait for it can come back
            out.write(("POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       + "Content-Length: 5000000\r\n\r\n").getBytes(US_ASCII));
            out.flush();

            String statusLine = new BufferedReader(new InputStreamReader(socket.getInputStream(), US_ASCII)).readLine();
            assertThat(statusLine).isEqualTo("HTTP/1.1 401 Unauthorized");
        }
    }

    @Test
    void should_leave_java_callers_of_direct_task_without_keys() {
        Map<?, ?> reply = service.producer().requestBody("direct:task", TASK, Map.class);

        assertThat(receiveAll(1)).singleElement().satisfies(message -> {
            assertThat(message.messageId()).isEqualTo(reply.get("messageId"));
            assertThat(message.body()).isEqualTo(TASK);
        });
    }

    /** A JSON POST with no key, to which a test adds its own header. */
    private HttpRequest.Builder post(String path, String body) {
        return HttpRequest.newBuilder(service.uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static void assertUnauthorized(HttpResponse<String> response, String detail) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(401);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                challenge -> assertThat(challenge).startsWith("Bearer realm=\"portal-messaging\""));
        JsonNode problem = json(response);
        assertThat(problem.fieldNames()).toIterable().containsExactly("type", "title", "status", "detail", "requestId");
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue(problem.get("requestId").asText());
        assertThat(problem.get("title").asText()).isEqualTo("Unauthorized");
        assertThat(problem.get("status").asInt()).isEqualTo(401);
        assertThat(problem.get("detail").asText()).contains(detail);
    }
}
