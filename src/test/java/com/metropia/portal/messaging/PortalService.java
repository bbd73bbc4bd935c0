package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.metropia.portal.messaging.lint.RouteLint;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.Main;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The real service, booted as {@code java -jar} would boot it (application.properties and the YAML in routes/ of the
 * working directory), with a few properties overridden to reach the test's emulators, queue and database.
 */
final class PortalService implements AutoCloseable {

    /** The API key the tests' service accepts, and that {@link #request} sends. */
    static final String API_KEY = "test-key-7f3c9a1e";

    private final Main main;
    private final int httpPort;

    private PortalService(Main main, int httpPort) {
        this.main = main;
        this.httpPort = httpPort;
    }

    /** Properties pointing the service at the emulators, with its own queue and database. */
    static Map<String, String> emulatorProperties(EmbeddedEmulators emulators, String queueUrl, String database) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("portal.sqs.endpoint", emulators.sqsEndpoint());
        properties.put("portal.sqs.region", EmbeddedEmulators.REGION);
        properties.put("portal.sqs.access-key", EmbeddedEmulators.ACCESS_KEY);
        properties.put("portal.sqs.secret-key", EmbeddedEmulators.SECRET_KEY);
        properties.put("portal.sqs.queue", queueUrl.substring(queueUrl.lastIndexOf('/') + 1));
        properties.put("portal.mongodb.uri", emulators.mongoUri());
        properties.put("portal.mongodb.database", database);
        properties.put("portal.api-keys", API_KEY);
        return properties;
    }

    /**
     * The environment of a service in a JVM of its own that reaches the emulators, with the queue and database given
     * (a free HTTP port, no API key: a test adds what it needs, or spoils one thing).
     */
    static Map<String, String> emulatorEnvironment(EmbeddedEmulators emulators, String queueUrl, String database) {
        Map<String, String> environment = new LinkedHashMap<>();
        environment.put("PORTAL_HTTP_PORT", String.valueOf(freePort()));
        environment.put("PORTAL_SQS_REGION", EmbeddedEmulators.REGION);
        environment.put("PORTAL_SQS_ENDPOINT", emulators.sqsEndpoint());
        environment.put("PORTAL_SQS_ACCESS_KEY", EmbeddedEmulators.ACCESS_KEY);
        environment.put("PORTAL_SQS_SECRET_KEY", EmbeddedEmulators.SECRET_KEY);
        environment.put("PORTAL_SQS_QUEUE_URL", queueUrl);
        environment.put("PORTAL_MONGODB_URI", emulators.mongoUri());
        environment.put("PORTAL_MONGODB_DATABASE", database);
        return environment;
    }

    /** Points the properties at an SQS endpoint where nothing listens (the queue URL too, so start-up does not look). */
    static Map<String, String> withUnreachableSqs(Map<String, String> properties) {
        String endpoint = "http://127.0.0.1:" + freePort();
        properties.put("portal.sqs.endpoint", endpoint);
        properties.put("portal.sqs.queue-url", endpoint + "/000000000000/portal-tasks");
        return properties;
    }

    /** Copies the route files of routes/ into the folder, for a test that edits them. */
    static void copyRoutes(Path folder) throws IOException {
        for (Path file : RouteLint.routeFiles(Path.of("routes"))) {
            Files.copy(file, folder.resolve(file.getFileName()));
        }
    }

    static PortalService start(Map<String, String> overrides, Class<?>... configurationsFirst) {
        int httpPort = freePort();
        Main main = PortalMessagingApplication.createMain(configurationsFirst);
        main.addOverrideProperty("portal.http.port", String.valueOf(httpPort));
        // Many tests start while SQS or MongoDB is down on purpose; the checks have tests of their own (child JVM).
        main.addOverrideProperty("portal.startup.check-backends", "false");
        overrides.forEach(main::addOverrideProperty);
        try {
            main.start();
        } catch (Exception e) {
            main.stop();
            throw e;
        }
        return new PortalService(main, httpPort);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }

    /** A request to the path that carries the API key, as a caller of the API would send it. */
    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path)).header("X-API-Key", API_KEY);
    }

    CamelContext context() {
        return main.getCamelContext();
    }

    ProducerTemplate producer() {
        return context().createProducerTemplate();
    }

    @Override
    public void close() {
        main.stop();
    }

    /** The messages of a start-up that must fail, cause by cause: what the user reads. */
    static String startupFailure(Map<String, String> properties) {
        Throwable failure = catchThrowable(() -> start(properties).close());
        assertThat(failure).as("the start-up should fail").isNotNull();
        StringBuilder messages = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
        }
        return messages.toString();
    }

    /** A JSON POST of the body with the test key; a test adds what else it needs, such as an Idempotency-Key. */
    HttpRequest.Builder jsonPost(String path, String body) {
        return request(path).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    static int freePort() {
        return EmbeddedEmulators.freePort("127.0.0.1");
    }
}
