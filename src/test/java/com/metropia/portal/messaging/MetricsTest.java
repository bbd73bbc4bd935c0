package com.metropia.portal.messaging;

import com.metropia.portal.messaging.tasks.PortalTasks;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.metropia.portal.messaging.bench.FaultProxy;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The portal_* metrics on /observe/metrics move by exactly what known requests did: tasks sent and kept, events
 * received and stored, documents and their sizes, SQS and MongoDB calls, requests per endpoint and status.
 */
class MetricsTest extends PortalTestSupport {

    private FaultProxy sqsProxy;
    private FaultProxy mongoProxy;

    @Override
    protected Map<String, String> extraProperties() {
        sqsProxy = FaultProxy.start("sqs", "127.0.0.1", emulators.sqsPort());
        mongoProxy = FaultProxy.start("mongodb", "127.0.0.1", emulators.mongoPort());
        return Map.of(
                "portal.sqs.endpoint", "http://127.0.0.1:" + sqsProxy.port(),
                "portal.mongodb.uri", "mongodb://127.0.0.1:" + mongoProxy.port() + "/?serverSelectionTimeoutMS=500",
                "portal.mongodb.max-attempts", "1",
                "portal.sqs.queue-url", emulators.createQueue(queueName()),
                "portal.sqs.max-attempts", "1",
                "portal.events.batch-size", "2",
                "portal.tasks.redrive-period-ms", "300",
                "portal.health.cache-ms", "0");
    }

    @AfterAll
    void stopProxies() {
        if (sqsProxy != null) {
            sqsProxy.close();
        }
        if (mongoProxy != null) {
            mongoProxy.close();
        }
    }

    @Test
    void should_count_tasks_sent_and_requests_per_endpoint_and_status() throws Exception {
        String before = metrics();

        for (int i = 0; i < 2; i++) {
            assertThat(postJson("/api/tasks", "{\"action\":\"metrics\",\"data\":{\"n\":" + i + "}}").statusCode()).isEqualTo(202);
        }
        assertThat(postJson("/api/tasks", "{\"action\":\"\",\"data\":{}}").statusCode()).isEqualTo(400);
        String after = metricsOnce(before, Map.of(
                "portal_http_requests_seconds_count{endpoint=\"tasks\",status=\"202\"}", 2.0,
                "portal_http_requests_seconds_count{endpoint=\"tasks\",status=\"400\"}", 1.0));

        assertThat(delta(before, after, "portal_tasks_sent_total")).isEqualTo(2);
        assertThat(delta(before, after, "portal_sqs_calls_seconds_count{outcome=\"ok\"}")).isEqualTo(2);
        assertThat(delta(before, after, "portal_http_requests_seconds_count{endpoint=\"tasks\",status=\"202\"}")).isEqualTo(2);
        assertThat(delta(before, after, "portal_http_requests_seconds_count{endpoint=\"tasks\",status=\"400\"}")).isEqualTo(1);
        assertThat(delta(before, after, "portal_tasks_kept_total")).isZero();
        // Camel's timer of every exchange is off: the portal_* metrics above counted without it
        assertThat(after).doesNotContain("camel_exchange_event_notifier");
        assertThat(value(after, "portal_http_requests_seconds_sum{endpoint=\"tasks\",status=\"202\"}")).isPositive();
        assertThat(receiveAll(2)).hasSize(2);
    }

    @Test
    void should_count_events_received_and_stored_documents_and_their_sizes() throws Exception {
        String before = metrics();

        assertThat(postJson("/api/events", events(5, "m")).statusCode()).isEqualTo(201);
        assertThat(postJson("/api/events", "[]").statusCode()).isEqualTo(200);
        assertThat(postJson("/api/events", "[{\"userIds\":[],\"eventName\":\"e\",\"eventMeta\":{}}]").statusCode())
                .isEqualTo(400);
        String after = metricsOnce(before, Map.of(
                "portal_http_requests_seconds_count{endpoint=\"events\",status=\"201\"}", 1.0,
                "portal_http_requests_seconds_count{endpoint=\"events\",status=\"200\"}", 1.0,
                "portal_http_requests_seconds_count{endpoint=\"events\",status=\"400\"}", 1.0));

        assertThat(delta(before, after, "portal_events_received_total")).isEqualTo(5);
        assertThat(delta(before, after, "portal_events_stored_total")).isEqualTo(5);
        assertThat(delta(before, after, "portal_events_rejected_requests_total")).isEqualTo(1);
        assertThat(delta(before, after, "portal_event_batches_total{outcome=\"stored\"}")).isEqualTo(3);
        assertThat(delta(before, after, "portal_event_batches_total{outcome=\"failed\"}")).isZero();
        assertThat(delta(before, after, "portal_event_batch_size_count")).isEqualTo(3);
        assertThat(delta(before, after, "portal_event_batch_size_sum")).isEqualTo(5);
        assertThat(delta(before, after, "portal_mongodb_calls_seconds_count{outcome=\"ok\"}")).isEqualTo(3);
        assertThat(delta(before, after, "portal_http_requests_seconds_count{endpoint=\"events\",status=\"201\"}")).isEqualTo(1);
        assertThat(delta(before, after, "portal_http_requests_seconds_count{endpoint=\"events\",status=\"200\"}")).isEqualTo(1);
        assertThat(delta(before, after, "portal_http_requests_seconds_count{endpoint=\"events\",status=\"400\"}")).isEqualTo(1);
        assertThat(storedDocuments()).hasSize(3);
    }

    @Test
    void should_count_the_batches_of_events_mongodb_did_not_store() throws Exception {
        String before = metrics();
        mongoProxy.down();
        try {
            assertThat(postJson("/api/events", events(3, "cut")).statusCode()).isEqualTo(503);
            String after = metricsOnce(before,
                    Map.of("portal_http_requests_seconds_count{endpoint=\"events\",status=\"503\"}", 1.0));

            assertThat(delta(before, after, "portal_events_received_total")).isEqualTo(3);
            assertThat(delta(before, after, "portal_events_stored_total")).isZero();
            // the first batch failed, the second was not attempted: neither is stored
            assertThat(delta(before, after, "portal_event_batches_total{outcome=\"failed\"}")).isEqualTo(2);
            assertThat(delta(before, after, "portal_event_batches_total{outcome=\"stored\"}")).isZero();
            assertThat(delta(before, after, "portal_mongodb_calls_seconds_count{outcome=\"error\"}")).isEqualTo(1);
            assertThat(delta(before, after, "portal_event_batch_size_count")).isZero();
        } finally {
            mongoProxy.up();
            // the next test needs the service's MongoDB client connected again, which readiness tells
            await().atMost(Duration.ofSeconds(20)).until(() -> send(HttpRequest.newBuilder(
                    service.uri("/observe/health/ready")).GET()).statusCode() == 200);
        }
    }

    @Test
    void should_count_tasks_kept_while_sqs_is_cut_the_fallback_depth_and_the_tasks_redriven() throws Exception {
        String before = metrics();
        sqsProxy.down();
        try {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> kept = postJson("/api/tasks", "{\"action\":\"kept\",\"data\":{\"n\":" + i + "}}");
                assertThat(json(kept).path("fallback").asBoolean()).as(kept.body()).isTrue();
            }
            String during = metricsOnce(before,
                    Map.of("portal_http_requests_seconds_count{endpoint=\"tasks\",status=\"202\"}", 2.0));
            assertThat(delta(before, during, "portal_tasks_kept_total")).isEqualTo(2);
            assertThat(delta(before, during, "portal_tasks_sent_total")).isZero();
            assertThat(delta(before, during, "portal_sqs_calls_seconds_count{outcome=\"error\"}")).isGreaterThanOrEqualTo(2);
            assertThat(value(during, "portal_task_fallback_depth")).isEqualTo(2);
        } finally {
            sqsProxy.up();
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> value(metrics(), "portal_task_fallback_depth") == 0);
        String after = metrics();
        assertThat(delta(before, after, "portal_tasks_redriven_total")).isEqualTo(2);
        assertThat(delta(before, after, "portal_tasks_sent_total")).isZero();
        assertThat(receiveAll(2)).hasSize(2);
    }

    @Test
    void should_show_every_counter_at_0_before_anything_happened() throws Exception {
        try (PortalService fresh = PortalService.start(PortalService.emulatorProperties(emulators, queueUrl,
                database + "_fresh"))) {
            HttpResponse<String> response = send(fresh.request("/observe/metrics").GET());

            assertThat(response.statusCode()).isEqualTo(200);
            for (String series : new String[] {"portal_tasks_sent_total", "portal_tasks_kept_total",
                    "portal_tasks_redriven_total", "portal_events_received_total", "portal_events_stored_total",
                    "portal_events_rejected_requests_total", "portal_event_batches_total{outcome=\"stored\"}",
                    "portal_event_batches_total{outcome=\"failed\"}"}) {
                // present, not merely absent (which value() would read as 0 too)
                assertThat(response.body()).as(series).containsPattern("(?m)^" + Pattern.quote(series) + " 0\\.0$");
            }
        }
    }

    @Test
    void should_serve_metrics_only_with_the_key() throws Exception {
        HttpResponse<String> anonymous = send(HttpRequest.newBuilder(service.uri("/observe/metrics")).GET());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    void should_count_requests_the_server_refused_before_any_route_by_status() throws Exception {
        String before = metrics();

        HttpResponse<String> noKey = send(HttpRequest.newBuilder(service.uri("/api/tasks"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"action\":\"a\",\"data\":{}}")));
        HttpResponse<String> wrongKey = send(HttpRequest.newBuilder(service.uri("/api/events"))
                .header("X-API-Key", "not-a-key").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[]")));
        HttpResponse<String> noKeyMetrics = send(HttpRequest.newBuilder(service.uri("/observe/metrics")).GET());
        HttpResponse<String> noSuchPath = send(service.request("/api/nothing-here").GET());
        assertThat(List.of(noKey.statusCode(), wrongKey.statusCode(), noKeyMetrics.statusCode(), noSuchPath.statusCode()))
                .containsExactly(401, 401, 401, 404);
        String after = metricsOnce(before, Map.of(
                "portal_http_refused_total{status=\"401\"}", 3.0,
                "portal_http_refused_total{status=\"404\"}", 1.0));

        assertThat(delta(before, after, "portal_http_refused_total{status=\"401\"}")).isEqualTo(3);
        assertThat(delta(before, after, "portal_http_refused_total{status=\"404\"}")).isEqualTo(1);
        // no route saw them: the per-endpoint series did not move
        assertThat(delta(before, after, "portal_http_requests_seconds_count{endpoint=\"tasks\",status=\"401\"}")).isZero();
        assertThat(delta(before, after, "portal_tasks_sent_total")).isZero();
    }

    @Test
    void should_show_tasks_moved_to_the_dead_letters_in_health_and_metrics() throws Exception {
        MongoCollection<Document> deadLetters = mongo.getDatabase(database).getCollection("send_task_dead");
        long deadBefore = deadLetters.countDocuments();
        String before = metrics();
        // larger than SQS takes: the redrive refuses it at once and moves it to the dead letters
        String poison = "{\"action\":\"big\",\"data\":{\"blob\":\""
                        + "x".repeat(PortalTasks.SQS_MAX_MESSAGE_BYTES) + "\"}}";
        ObjectId poisonId = new ObjectId();
        mongo.getDatabase(database).getCollection("send_task_fallback")
                .insertOne(TaskRedriveTest.keptTask(poisonId, poison, queueName(), queueUrl, 0));

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> deadLetters.countDocuments(Filters.eq("_id", poisonId)) == 1);
        JsonNode check = await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> fallbackCheck(), node -> node.path("data").path("dead.letters").asLong() == deadBefore + 1);
        String after = metricsOnce(before, Map.of());

        assertThat(check.path("status").asText()).isEqualTo("UP");
        assertThat(check.path("data").path("dead.letter.collection").asText()).isEqualTo(database + ".send_task_dead");
        assertThat(check.path("message").asText())
                .endsWith("; " + (deadBefore + 1) + " task(s) SQS will not take are in the dead-letter collection"
                          + " send_task_dead (see their lastError)");
        assertThat(value(after, "portal_task_dead_letters")).isEqualTo(deadBefore + 1);
        assertThat(delta(before, after, "portal_task_dead_letters")).isEqualTo(1);
    }

    /** The portal-task-fallback check of the readiness answer, with its details (health needs no key). */
    private JsonNode fallbackCheck() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(service.uri("/observe/health/ready?data=true")).GET());
        for (JsonNode check : JSON.readTree(response.body()).path("checks")) {
            if ("portal-task-fallback".equals(check.path("name").asText())) {
                return check;
            }
        }
        throw new AssertionError("no portal-task-fallback check in " + response.body());
    }

    private String metrics() throws Exception {
        HttpResponse<String> response = send(service.request("/observe/metrics").GET());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /**
     * The metrics once the series moved by the expected amount: a request's exchange completes just after its answer
     * is written, so the client can be a moment ahead of the counters. Every other delta is read from this snapshot.
     */
    private String metricsOnce(String before, Map<String, Double> expected) {
        return await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(this::metrics,
                after -> expected.entrySet().stream().allMatch(e -> delta(before, after, e.getKey()) >= e.getValue()));
    }

    private static double delta(String before, String after, String series) {
        return value(after, series) - value(before, series);
    }

    /** The value of a series in Prometheus text, 0 when it is not there yet; labels as written, in Micrometer's order. */
    private static double value(String metrics, String series) {
        Matcher line = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        return line.find() ? Double.parseDouble(line.group(1)) : 0;
    }
}
