package com.metropia.portal.messaging;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedPortalMessaging;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.Layout;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console log is text by default; PORTAL_LOG_FORMAT=json (or -Dportal.log.format=json) makes it one JSON object a
 * line, written by log4j's JSON Template Layout, with the request id of the line's request.
 */
class JsonLogFormatTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void should_write_the_service_log_as_json_lines_with_the_request_id_when_portal_log_format_is_json()
            throws Exception {
        Map<String, String> environment = new LinkedHashMap<>();
        int port = PortalService.freePort();
        environment.put("PORTAL_HTTP_PORT", String.valueOf(port));
        environment.put("PORTAL_DEV_SQS_PORT", "0");
        environment.put("PORTAL_DEV_MONGODB_PORT", "0");
        environment.put("PORTAL_LOG_FORMAT", "json");

        try (ChildJvm service = ChildJvm.start(EmbeddedPortalMessaging.class, environment)) {
            service.awaitServing(port, Duration.ofSeconds(90));
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/events"))
                            .timeout(Duration.ofSeconds(30))
                            .header("X-API-Key", "local-dev-key")
                            .header("Content-Type", "application/json")
                            .header("X-Request-Id", "json-log-1")
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    "[{\"userIds\":[\"1\"],\"eventName\":\"line\\nbreak\",\"eventMeta\":{}}]"))
                            .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(201);

            JsonNode eventLine = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> requestLine(service.output()), line -> line != null);

            assertThat(eventLine.get("level").asText()).isEqualTo("INFO");
            assertThat(eventLine.get("logger").asText()).isEqualTo("portal.events");
            assertThat(eventLine.get("thread").asText()).isNotBlank();
            assertThat(eventLine.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            assertThat(eventLine.get("message").asText())
                    .isEqualTo("Send incentive event UserIds: 1 Name:line\\nbreak");
            List<String> lines = service.output().lines().filter(line -> !line.isBlank()).toList();
            assertThat(lines).hasSizeGreaterThan(5);
            for (String line : lines) {
                assertThat(JSON.readTree(line).isObject()).as(line).isTrue();
            }
        }
    }

    /** The line of the events route that carries the request id, parsed; null while it is not written. */
    private static JsonNode requestLine(String output) throws Exception {
        for (String line : output.lines().toList()) {
            if (line.contains("json-log-1") && line.contains("Send incentive event")) {
                JsonNode node = JSON.readTree(line);
                return "json-log-1".equals(node.path("requestId").asText()) ? node : null;
            }
        }
        return null;
    }

    @Test
    void should_write_level_logger_thread_request_id_message_and_exception_as_one_json_object() throws Exception {
        Configuration configuration = configuration("json");
        try {
            assertThat(configuration.getRootLogger().getAppenderRefs())
                    .extracting(ref -> ref.getRef()).containsExactly("json");
            Layout<?> layout = configuration.getAppenders().get("json").getLayout();
            SortedArrayStringMap mdc = new SortedArrayStringMap();
            mdc.putValue("requestId", "req-42");
            LogEvent event = Log4jLogEvent.newBuilder().setLoggerName("portal.tasks").setLevel(Level.ERROR)
                    .setThreadName("worker-1").setContextData(mdc)
                    .setMessage(new SimpleMessage("first\nFAKE second \u001b[31m"))
                    .setThrown(new IllegalStateException("broken")).build();

            String line = layout.toSerializable(event).toString();

            assertThat(line.strip()).doesNotContain("\n").doesNotContain("\u001b");
            JsonNode json = JSON.readTree(line);
            assertThat(json.get("level").asText()).isEqualTo("ERROR");
            assertThat(json.get("logger").asText()).isEqualTo("portal.tasks");
            assertThat(json.get("thread").asText()).isEqualTo("worker-1");
            assertThat(json.get("requestId").asText()).isEqualTo("req-42");
            assertThat(json.get("message").asText()).isEqualTo("first\nFAKE second \u001b[31m");
            assertThat(json.get("exception").asText()).startsWith("java.lang.IllegalStateException: broken")
                    .contains("\tat ");

            LogEvent outsideRequest = Log4jLogEvent.newBuilder().setLoggerName("x").setLevel(Level.INFO)
                    .setMessage(new SimpleMessage("x".repeat(20_000))).build();
            JsonNode plain = JSON.readTree(layout.toSerializable(outsideRequest).toString());
            assertThat(plain.has("requestId")).isFalse();
            assertThat(plain.has("exception")).isFalse();
            assertThat(plain.get("message").asText().length()).isLessThanOrEqualTo(10_001);
        } finally {
            configuration.stop();
        }
    }

    @Test
    void should_write_text_by_default_and_for_a_format_it_does_not_know() {
        assertThat(PortalMessagingApplication.logFormat(null, null)).isEqualTo("text");
        assertThat(PortalMessagingApplication.logFormat(null, " JSON ")).isEqualTo("json");
        assertThat(PortalMessagingApplication.logFormat("text", "json")).isEqualTo("text");
        assertThat(PortalMessagingApplication.logFormat(null, "xml")).isEqualTo("text");
        Configuration configuration = configuration(null);
        try {
            assertThat(configuration.getRootLogger().getAppenderRefs())
                    .extracting(ref -> ref.getRef()).containsExactly("text");
        } finally {
            configuration.stop();
        }
    }

    /** The service's logging configuration as it reads with portal.log.format set to the format (or unset). */
    private Configuration configuration(String format) {
        String previous = System.getProperty(PortalMessagingApplication.LOG_FORMAT);
        List<Runnable> restore = new ArrayList<>();
        restore.add(() -> {
            if (previous == null) {
                System.clearProperty(PortalMessagingApplication.LOG_FORMAT);
            } else {
                System.setProperty(PortalMessagingApplication.LOG_FORMAT, previous);
            }
        });
        try {
            if (format == null) {
                System.clearProperty(PortalMessagingApplication.LOG_FORMAT);
            } else {
                System.setProperty(PortalMessagingApplication.LOG_FORMAT, format);
            }
            Configuration configuration = new PropertiesConfigurationFactory().getConfiguration(
                    new LoggerContext("log-format-" + format),
                    ConfigurationSource.fromResource("portal-messaging/log4j2.properties", getClass().getClassLoader()));
            configuration.initialize();
            return configuration;
        } finally {
            restore.forEach(Runnable::run);
        }
    }
}
