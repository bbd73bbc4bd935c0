package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A service that serves the HTTP API does not start without API keys unless authentication is switched off; one that
 * only runs the routes for Java callers never needs keys. What depends on the keys being absent runs in a JVM of its
 * own ({@link ChildJvm}), whatever keys the machine running the tests has in its environment.
 */
class AuthenticationStartupTest {

    private static final String TASK = "{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}";
    private static final Duration WITHIN = Duration.ofSeconds(90);

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final String queueUrl = emulators.createQueue("auth-startup");
    private final SqsClient sqs = emulators.newSqsClient();

    @AfterEach
    void closeClient() {
        sqs.close();
    }

    @Test
    void should_refuse_to_start_without_api_keys_and_say_what_to_set() {
        StartupConfigurationTest.assertStoppedByConfiguration(
                ChildJvm.run(PortalMessagingApplication.class, environmentWithoutKeys(), WITHIN),
                "No API key for the HTTP API: set portal.api-keys (PORTAL_API_KEYS) to one or more keys",
                "portal.http.auth=off (PORTAL_HTTP_AUTH=off)");
    }

    @Test
    void should_refuse_to_start_with_only_blank_keys() {
        Map<String, String> environment = environmentWithoutKeys();
        environment.put("PORTAL_API_KEYS", " , ");

        StartupConfigurationTest.assertStoppedByConfiguration(
                ChildJvm.run(PortalMessagingApplication.class, environment, WITHIN), "No API key");
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
        Map<String, String> environment = environmentWithoutKeys();
        // the HTTP server runs (an application may serve its own routes on it), the API's routes do not; Camel Main
        // takes its own options from the environment with the dashes dropped
        environment.put("CAMEL_MAIN_ROUTESINCLUDEPATTERN", "file:routes/tasks.camel.yaml,file:routes/events.camel.yaml");

        try (ChildJvm service = ChildJvm.start(PortalMessagingApplication.class, environment)) {
            service.awaitServing(Integer.parseInt(environment.get("PORTAL_HTTP_PORT")), WITHIN);

            assertThat(service.output()).doesNotContain("No API key").contains("Started task-to-sqs");
        }
    }

    /** Everything a start needs but the keys, in the environment of a JVM of its own (no PORTAL_API_KEYS here). */
    private Map<String, String> environmentWithoutKeys() {
        return PortalService.emulatorEnvironment(emulators, queueUrl, "portal_auth_startup");
    }

    private Map<String, String> withoutKeys() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_auth_startup");
        properties.remove("portal.api-keys");
        return properties;
    }
}
