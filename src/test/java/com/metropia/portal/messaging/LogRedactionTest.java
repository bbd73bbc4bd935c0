package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.LogValues;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.Layout;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
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

    private static final ObjectMapper JSON = new ObjectMapper();

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

    /**
     * A caller's values reach the per-event INFO line escaped and cut short: a line break cannot start a forged line,
     * an ANSI escape cannot repaint a terminal, and a megabyte of eventName stays a short line.
     */
    @Test
    void should_escape_and_bound_the_caller_values_of_the_per_event_line() throws Exception {
        String forged = "1\n2026-11-27T00:00:00,000 ERROR [main] FAKE - forged line";
        String events = "[{\"userIds\":[" + JSON.writeValueAsString(forged) + ",\"2\\r3\"],"
                        + "\"eventName\":\"\\u001b[31mred\\u001b[0m\\u2028\\u202e\",\"eventMeta\":{}},"
                        + "{\"userIds\":[\"7\"],\"eventName\":\"" + "n".repeat(1_000_000) + "\",\"eventMeta\":{}},"
                        + "{\"userIds\":" + JSON.writeValueAsString(java.util.Collections.nCopies(5000, "12345678"))
                        + ",\"eventName\":\"many\",\"eventMeta\":{}}]";

        try (PortalService service = PortalService.start(secretProperties());
             CapturedLogs logs = CapturedLogs.of("portal.events", Level.INFO)) {
            assertThat(post(service, "/api/events", events, "X-API-Key", API_KEY).statusCode()).isEqualTo(201);

            assertThat(logs.lines()).containsExactly(
                    "INFO Send incentive event UserIds: 1\\n2026-11-27T00:00:00,000 ERROR [main] FAKE - forged line,"
                    + "2\\r3 Name:\\u001b[31mred\\u001b[0m\\u2028\\u202e",
                    "INFO Send incentive event UserIds: 7 Name:" + "n".repeat(LogValues.MAX_VALUE_CHARS)
                    + "... (1000000 chars)",
                    logs.lines().get(2));
            assertThat(logs.lines().get(2)).startsWith("INFO Send incentive event UserIds: 12345678,12345678,")
                    .endsWith("... (5000 values) Name:many").hasSizeLessThan(300);
        }
    }

    /**
     * The service's own layout is the safety net for every other line: whatever a message holds, it is written as one
     * line without control characters, at most 10,000 characters of it.
     */
    @Test
    void should_write_every_message_as_one_bounded_line_without_control_characters() throws Exception {
        LoggerContext context = new LoggerContext("layout-of-the-service");
        Configuration configuration = new PropertiesConfigurationFactory().getConfiguration(context,
                ConfigurationSource.fromResource("portal-messaging/log4j2.properties", getClass().getClassLoader()));
        configuration.initialize();
        Layout<?> layout = configuration.getAppenders().get("text").getLayout();
        try {
            for (String message : List.of("1\n2026-11-27T00:00:00,000 ERROR [main] FAKE - forged line",
                    "a\r\nb", "\u001b[2J\u001b[31mred\u0007\u0085\u2028\u2029\u202e\u2066", "x".repeat(1_000_000))) {
                LogEvent event = Log4jLogEvent.newBuilder().setLoggerName("portal.events").setLevel(Level.WARN)
                        .setMessage(new SimpleMessage(message)).build();

                String line = layout.toSerializable(event).toString();

                assertThat(line).as(message.substring(0, Math.min(40, message.length())))
                        .endsWith(System.lineSeparator()).hasSizeLessThan(10_200);
                assertThat(line.substring(0, line.length() - System.lineSeparator().length()))
                        .doesNotContainPattern("[\\x00-\\x08\\x0A-\\x1F\\x7F-\\x9F\\u2028\\u2029\\u202A-\\u202E"
                                               + "\\u2066-\\u2069]");
            }
            LogEvent forged = Log4jLogEvent.newBuilder().setLoggerName("portal.events").setLevel(Level.INFO)
                    .setMessage(new SimpleMessage("x\nFAKE")).build();
            assertThat(layout.toSerializable(forged).toString()).contains(" - x\\nFAKE");
        } finally {
            configuration.stop();
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
