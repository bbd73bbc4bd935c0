package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The events reply on a copy of routes/ whose aggregate has no executorService: batches then complete on the
 * aggregator's own thread, after the splitter is done, and each one is slowed down so that the reply is computed while
 * batches are still pending. The reply must still tell the truth: never a 2xx while a batch is not stored.
 */
class PendingBatchesTest extends PortalTestSupport {

    private static final String EXECUTOR = "executorService: \"#portalSynchronousExecutor\"";
    /** Inserted before the insert of each batch: a delay, longer for a batch whose first event is "slow". */
    private static final String BEFORE_INSERT = "- process:\n"
                                                + "                                ref: portalRequireMongoAvailable";
    private static final String SLOW_AND_FAILING = """
            - delay:
                constant: "150"
            - filter:
                simple: "${body[data][0][eventName]} == 'slow'"
                steps:
                  - delay:
                      constant: "3000"
            - filter:
                simple: "${body[data][0][eventName]} == 'refused_by_the_test'"
                steps:
                  - throwException:
                      exceptionType: java.lang.IllegalStateException
                      message: batch refused by the test
            """;

    private Path routes;

    /** Runs before the service starts (from the support's start-up, which asks for these properties first). */
    private void editRoutes() throws IOException {
        routes = Files.createTempDirectory("pending-batches-routes");
        PortalService.copyRoutes(routes);
        Path events = routes.resolve("events.camel.yaml");
        String yaml = Files.readString(events);
        assertThat(yaml).contains(EXECUTOR).contains(BEFORE_INSERT);
        String indent = " ".repeat(28);
        String inserted = SLOW_AND_FAILING.lines().map(line -> indent + line).reduce((a, b) -> a + "\n" + b)
                .orElseThrow().substring(indent.length());
        Files.writeString(events, yaml.lines().filter(line -> !line.contains(EXECUTOR))
                .reduce((a, b) -> a + "\n" + b).orElseThrow()
                .replace(BEFORE_INSERT, inserted + "\n" + indent + BEFORE_INSERT));
    }

    @AfterAll
    void deleteRoutes() throws IOException {
        try (var files = Files.list(routes)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(routes);
    }

    @Override
    protected Map<String, String> extraProperties() {
        try {
            editRoutes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Map.of("camel.main.routes-include-pattern", "file:" + routes.toAbsolutePath() + "/*.camel.yaml",
                "portal.events.pending-batch-wait-ms", "1500");
    }

    @Test
    void should_answer_201_only_once_every_batch_completing_on_another_thread_is_stored() throws Exception {
        HttpResponse<String> response = postJson("/api/events", events(1200, "async"));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        JsonNode reply = json(response);
        assertThat(reply.get("documents").asInt()).isEqualTo(3);
        assertThat(reply.has("droppedEvents")).isFalse();
        // stored when the reply came, not some time later
        assertThat(storedDocuments()).extracting(d -> d.getList("data", Object.class).size())
                .containsExactly(500, 500, 200);
    }

    @Test
    void should_let_a_failed_batch_reach_the_caller_when_batches_complete_on_another_thread() throws Exception {
        String body = events(1200, "failing").replace("\"u500\"],\"eventName\":\"trip_completed\"",
                "\"u500\"],\"eventName\":\"refused_by_the_test\"");

        HttpResponse<String> response = postJson("/api/events", body);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
        JsonNode problem = json(response);
        assertThat(problem.get("storedEvents").asInt()).isEqualTo(700);
        assertThat(problem.get("failedBatches")).hasSize(1);
        assertThat(problem.get("failedBatches").get(0).get("firstEvent").asInt()).isEqualTo(500);
        assertThat(problem.get("failedBatches").get(0).get("error").asText())
                .isEqualTo("MongoDB did not store the batch");
        assertThat(storedDocuments()).extracting(d -> d.getList("data", Object.class).size())
                .containsExactly(500, 200);
    }

    @Test
    void should_answer_500_naming_the_pending_batches_rather_than_count_them_when_they_take_too_long()
            throws Exception {
        String body = events(700, "slow").replace("\"u500\"],\"eventName\":\"trip_completed\"",
                "\"u500\"],\"eventName\":\"slow\"");

        HttpResponse<String> response = postJson("/api/events", body);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(500);
        JsonNode problem = json(response);
        assertThat(problem.get("detail").asText()).contains("200 of 700 events were still in batches");
        assertThat(problem.get("pendingEvents").asInt()).isEqualTo(200);
        assertThat(problem.get("storedEvents").asInt()).isEqualTo(500);
        // the slow batch is stored after all, later: the caller was told it was not known to be
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(storedDocuments()).hasSize(2));
    }
}
