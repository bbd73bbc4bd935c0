package com.metropia.portal.messaging;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged service's logging as a supervisor stops it (SIGTERM): a request that finishes during the shutdown writes
 * every one of its log lines, and so does Camel, to its last. (Log4j's own shutdown hook used to stop logging as soon
 * as the shutdown began, dropping most of them.) Its standard output is written in blocks (BufferedConsole), and a
 * line still comes out soon when nothing else is written.
 */
class ShutdownLogTest {

    private static final String EVENT_LINE = "Send incentive event UserIds: ";

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** The packaged service with a queue and a database of its own, serving. */
    private record Serving(ChildJvm service, int port) implements AutoCloseable {

        HttpRequest events(String body) {
            return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/events"))
                    .header("X-API-Key", PortalService.API_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build();
        }

        @Override
        public void close() {
            service.close();
        }
    }

    private Serving startServing(String name) {
        String queueUrl = emulators.createQueue(name);
        Map<String, String> environment = PortalService.emulatorEnvironment(emulators, queueUrl,
                "portal_" + name.replace('-', '_'));
        environment.put("PORTAL_API_KEYS", PortalService.API_KEY);
        int port = Integer.parseInt(environment.get("PORTAL_HTTP_PORT"));
        ChildJvm service = ChildJvm.start(PortalMessagingApplication.class, environment);
        try {
            service.awaitServing(port, Duration.ofSeconds(90));
        } catch (RuntimeException | Error e) {
            service.close();
            throw e;
        }
        return new Serving(service, port);
    }

    @Test
    void should_write_every_log_line_of_a_request_that_finishes_during_the_shutdown() throws Exception {
        try (Serving serving = startServing("shutdown-log")) {
            ChildJvm service = serving.service();
            CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(
                    serving.events(PortalTestSupport.events(5_000, "shutdown-log")), HttpResponse.BodyHandlers.ofString());
            // the request is being split, its per-event lines being written: now the supervisor stops the service
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> service.output().contains(EVENT_LINE));

            ChildJvm.Outcome stopped = service.stop(Duration.ofSeconds(60));

            HttpResponse<String> answer = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
            assertThat(stopped.output().lines().filter(line -> line.contains(EVENT_LINE)).count())
                    .as("one INFO line per event of the request").isEqualTo(5_000);
            assertThat(stopped.output()).as("Camel's context stopped").contains(") shutdown in ");
            // written by Camel's shutdown hook, often after the service's main has returned
            assertThat(stopped.output().lines())
                    .as("Camel's last line").anyMatch(line -> line.contains("(Main) ") && line.endsWith(" is shutdown"));
        }
    }

    @Test
    void should_write_a_line_out_while_the_service_is_idle() throws Exception {
        try (Serving serving = startServing("idle-log")) {
            ChildJvm service = serving.service();
            String user = "idle-" + System.nanoTime();

            HttpResponse<String> answer = http.send(serving.events("[{\"userIds\":[\"" + user
                                                                   + "\"],\"eventName\":\"trip_completed\",\"eventMeta\":{}}]"),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
            // Standard output is written in blocks: this line is far from filling one, and nothing else is logged;
            // the periodic write-out (every 100 ms) brings it out.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> service.output().contains(EVENT_LINE + user + " Name:trip_completed"));
        }
    }
}
