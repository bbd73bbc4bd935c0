package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A service that serves the HTTP API does not start without API keys unless authentication is switched off; one that
 * only runs the routes for Java callers never needs keys.
 */
class AuthenticationStartupTest {

    private static final String TASK = "{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}";

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final String queueUrl = emulators.createQueue("auth-startup");
    private final SqsClient sqs = emulators.newSqsClient();

    @AfterEach
    void closeClient() {
        sqs.close();
    }

    @Test
    void should_refuse_to_start_without_api_keys_and_say_what_to_set() {
        assumeTrue(System.getenv("PORTAL_API_KEYS") == null, "PORTAL_API_KEYS is set in this environment");
        Map<String, String> properties = withoutKeys();

        assertThat(PortalService.startupFailure(properties)).contains("No API key").contains("portal.api-keys")
                .contains("PORTAL_API_KEYS").contains("portal.http.auth=off");
    }

    @Test
    void should_refuse_to_start_with_only_blank_keys() {
        assumeTrue(System.getenv("PORTAL_API_KEYS") == null, "PORTAL_API_KEYS is set in this environment");
        Map<String, String> properties = withoutKeys();
        properties.put("portal.api-keys", " , ");

        assertThat(PortalService.startupFailure(properties)).contains("No API key");
    }

    @Test
    void should_refuse_an_auth_setting_it_does_not_know() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_auth_startup");
        properties.put("portal.http.auth", "basic");

        assertThat(PortalService.startupFailure(properties)).contains("portal.http.auth must be api-key or off, not 'basic'");
    }

    @Test
    void should_serve_requests_without_a_key_when_auth_is_off() throws Exception {
        Map<String, String> properties = withoutKeys();
        properties.put("portal.http.auth", "off");

        try (PortalService service = PortalService.start(properties)) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(service.uri("/api/tasks")).timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(TASK)).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(2)).messages();
            assertThat(messages).singleElement().extracting(Message::body).isEqualTo(TASK);
        }
    }

    @Test
    void should_start_without_keys_when_the_http_api_file_is_not_included() {
        assumeTrue(System.getenv("PORTAL_API_KEYS") == null, "PORTAL_API_KEYS is set in this environment");
        Map<String, String> properties = withoutKeys();
        // the HTTP server runs (an application may serve its own routes on it), the API's routes do not
        properties.put("camel.main.routes-include-pattern", "file:routes/tasks.camel.yaml,file:routes/events.camel.yaml");

        try (PortalService service = PortalService.start(properties)) {
            Map<?, ?> reply = service.producer().requestBody("direct:task", TASK, Map.class);

            assertThat(reply.get("messageId")).isNotNull();
        }
    }

    private Map<String, String> withoutKeys() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_auth_startup");
        properties.remove("portal.api-keys");
        return properties;
    }
}
