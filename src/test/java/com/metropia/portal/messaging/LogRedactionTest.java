package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What no log line holds at INFO, whoever writes it (the service, Camel and its start-up summary, the AWS SDK, the
 * MongoDB driver: everything under the root logger is captured): an API key, right or wrong, the password of the
 * MongoDB URI, the AWS secret key, or an eventMeta value.
 */
class LogRedactionTest {

    private static final String API_KEY = "api-key-in-no-log-91c4";
    private static final String WRONG_KEY = "wrong-key-in-no-log-0a9d";
    private static final String AWS_SECRET = "aws-secret-in-no-log-6b1f";
    private static final String MONGODB_PASSWORD = "mongodb-password-in-no-log-3e8a";
    private static final String EVENT_META = "rider-in-no-log-7d2c@example.com";
    private static final String TASK = "{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}";
    private static final String EVENTS = "[{\"userIds\":[\"123\"],\"eventName\":\"trip_completed\","
                                         + "\"eventMeta\":{\"email\":\"" + EVENT_META + "\"}}]";

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final String queueUrl = emulators.createQueue("log-redaction");
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void should_mask_the_keys_and_secrets_in_the_startup_summary() {
        Map<String, String> properties = secretProperties();
        properties.put("portal.mongodb.uri", "mongodb://portal:" + MONGODB_PASSWORD + "@127.0.0.1:"
                                             + emulators.mongoPort() + "/");

        try (CapturedLogs logs = CapturedLogs.of("", Level.INFO)) {
            PortalService.start(properties).close();

            assertThat(logs.lines()).anySatisfy(line -> assertThat(line).contains("portal.api-keys = xxxxxx"));
            assertThat(logs.lines()).anySatisfy(line -> assertThat(line).contains("portal.sqs.secret-key = xxxxxx"));
            assertThat(logs.lines()).anySatisfy(line -> assertThat(line).contains("portal.mongodb.uri = xxxxxx"));
            assertNoSecretIn(logs.lines());
        }
    }

    @Test
    void should_mask_the_keys_when_the_application_sets_its_own_sensitive_keywords() {
        Map<String, String> properties = secretProperties();
        properties.put("camel.main.additional-sensitive-keywords", "uri");

        try (CapturedLogs logs = CapturedLogs.of("", Level.INFO)) {
            PortalService.start(properties).close();

            assertThat(logs.lines()).anySatisfy(line -> assertThat(line).contains("portal.api-keys = xxxxxx"));
            assertNoSecretIn(logs.lines());
        }
    }

    @Test
    void should_log_neither_keys_nor_event_meta_while_serving_requests() throws Exception {
        try (PortalService service = PortalService.start(secretProperties());
             CapturedLogs logs = CapturedLogs.of("", Level.INFO)) {
            assertThat(post(service, "/api/tasks", TASK, "Authorization", "Bearer " + API_KEY).statusCode())
                    .isEqualTo(202);
            assertThat(post(service, "/api/events", EVENTS, "X-API-Key", API_KEY).statusCode()).isEqualTo(201);
            assertThat(post(service, "/api/events", EVENTS, "X-API-Key", WRONG_KEY).statusCode()).isEqualTo(401);

            assertThat(logs.lines()).as("the event was logged at INFO")
                    .contains("INFO Send incentive event UserIds: 123 Name:trip_completed");
            assertNoSecretIn(logs.lines());
        }
    }

    @Test
    void should_log_no_secret_when_sqs_and_mongodb_fail() throws Exception {
        Map<String, String> properties = PortalService.withUnreachableSqs(secretProperties());
        properties.put("portal.sqs.max-attempts", "1");
        properties.put("portal.mongodb.uri", "mongodb://portal:" + MONGODB_PASSWORD + "@127.0.0.1:"
                                             + PortalService.freePort() + "/?serverSelectionTimeoutMS=1000");

        try (CapturedLogs logs = CapturedLogs.of("", Level.INFO);
             PortalService service = PortalService.start(properties)) {
            assertThat(post(service, "/api/tasks", TASK, "X-API-Key", API_KEY).statusCode()).isEqualTo(503);
            assertThat(post(service, "/api/events", EVENTS, "X-API-Key", API_KEY).statusCode()).isEqualTo(503);

            assertThat(logs.lines()).isNotEmpty();
            assertNoSecretIn(logs.lines());
        }
    }

    /** The emulators' settings with a key, and the AWS secret that ElasticMQ takes as any other. */
    private Map<String, String> secretProperties() {
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_log_redaction");
        properties.put("portal.api-keys", API_KEY);
        properties.put("portal.sqs.secret-key", AWS_SECRET);
        return properties;
    }

    private HttpResponse<String> post(PortalService service, String path, String body, String header, String value)
            throws Exception {
        return http.send(HttpRequest.newBuilder(service.uri(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header(header, value)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertNoSecretIn(List<String> lines) {
        for (String secret : List.of(API_KEY, WRONG_KEY, AWS_SECRET, MONGODB_PASSWORD, EVENT_META)) {
            assertThat(lines).as(secret).noneSatisfy(line -> assertThat(line).contains(secret));
        }
    }
}
