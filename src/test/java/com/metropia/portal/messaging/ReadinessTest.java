package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.bench.FaultProxy;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Readiness means the backends answer: SQS and MongoDB are reached through TCP proxies that the tests cut and restore
 * (the shared emulators keep running for the other classes), and the readiness answer turns 503 with the reason, then
 * 200 again, while liveness stays 200. The backend clients of the service count the calls the checks make.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadinessTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long CACHE_MS = 1000;
    private static final long FALLBACK_THRESHOLD = 2;

    /** GetQueueAttributes calls and MongoDB pings made by the service's clients. */
    static final AtomicInteger SQS_CHECKS = new AtomicInteger();
    static final AtomicInteger MONGO_PINGS = new AtomicInteger();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private FaultProxy sqsProxy;
    private FaultProxy mongoProxy;
    private PortalService service;
    private SqsClient sqs;
    private MongoClient mongo;
    private String queueName;
    private String database;

    @BeforeAll
    void start() {
        queueName = "readinesstest";
        String queueUrl = emulators.createQueue(queueName);
        database = "portal_readinesstest";
        sqsProxy = FaultProxy.start("sqs", "127.0.0.1", emulators.sqsPort());
        mongoProxy = FaultProxy.start("mongodb", "127.0.0.1", emulators.mongoPort());
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        String sqsEndpoint = "http://127.0.0.1:" + sqsProxy.port();
        properties.put("portal.sqs.endpoint", sqsEndpoint);
        properties.put("portal.sqs.queue-url", queueUrl);
        properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + mongoProxy.port() + "/?serverSelectionTimeoutMS=500");
        properties.put("portal.health.cache-ms", String.valueOf(CACHE_MS));
        properties.put("portal.health.timeout-ms", "500");
        properties.put("portal.health.fallback-threshold", String.valueOf(FALLBACK_THRESHOLD));
        properties.put("portal.sqs.max-attempts", "1");
        properties.put("portal.tasks.redrive-period-ms", "300");
        service = PortalService.start(properties, CountingClients.class);
        sqs = emulators.newSqsClient();
        mongo = MongoClients.create(emulators.mongoUri());
    }

    @AfterAll
    void stop() {
        if (service != null) {
            service.close();
        }
        for (AutoCloseable closeable : new AutoCloseable[] {sqsProxy, mongoProxy, sqs, mongo}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // the next one still closes
            }
        }
    }

    @BeforeEach
    void backendsUp() {
        sqsProxy.up();
        mongoProxy.up();
        emulators.createQueue(queueName);
        awaitReady(200);
    }

    @Test
    void should_turn_readiness_down_with_the_reason_while_sqs_is_unreachable_and_up_when_it_returns() throws Exception {
        sqsProxy.down();

        JsonNode ready = awaitReady(503);
        assertThat(ready.get("status").asText()).isEqualTo("DOWN");
        assertThat(check(ready, "portal-sqs").get("status").asText()).isEqualTo("DOWN");
        assertThat(check(ready, "portal-sqs").get("message").asText()).startsWith("SQS not reachable: ");
        assertThat(check(ready, "portal-mongodb").get("status").asText()).isEqualTo("UP");
        assertLive();

        sqsProxy.up();
        JsonNode back = awaitReady(200);
        assertThat(check(back, "portal-sqs").get("status").asText()).isEqualTo("UP");
        assertLive();
    }

    @Test
    void should_turn_readiness_down_with_the_reason_while_mongodb_is_unreachable_and_up_when_it_returns()
            throws Exception {
        mongoProxy.down();

        JsonNode ready = awaitReady(503);
        assertThat(check(ready, "portal-mongodb").get("status").asText()).isEqualTo("DOWN");
        assertThat(check(ready, "portal-mongodb").get("message").asText()).startsWith("MongoDB not reachable: ");
        assertThat(check(ready, "portal-sqs").get("status").asText()).isEqualTo("UP");
        // the fallback depth cannot be read either, which does not count against readiness twice, nor wait twice
        long[] waitedMs = new long[1];
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            Instant asked = Instant.now();
            long started = System.nanoTime();
            Health probe = health("/observe/health/ready?data=true");
            waitedMs[0] = (System.nanoTime() - started) / 1_000_000;
            // an answer the backend gave after the probe was sent, not one from the cache
            return Instant.parse(check(probe.body(), "portal-mongodb").path("data").path("checked.at").asText())
                    .isAfter(asked);
        });
        assertThat(waitedMs[0]).as("a probe while MongoDB is down waits out one timeout (500 ms), not two")
                .isLessThan(900);
        assertThat(check(ready, "portal-task-fallback").get("status").asText()).isEqualTo("UP");
        assertThat(check(ready, "portal-task-fallback").get("message").asText()).contains("unknown");
        assertLive();

        mongoProxy.up();
        JsonNode back = awaitReady(200);
        assertThat(check(back, "portal-mongodb").get("status").asText()).isEqualTo("UP");
        assertLive();
    }

    @Test
    void should_turn_readiness_down_when_sqs_answers_that_the_queue_is_gone() throws Exception {
        String queueUrl = emulators.createQueue(queueName);
        sqs.deleteQueue(b -> b.queueUrl(queueUrl));

        JsonNode ready = awaitReady(503);
        assertThat(check(ready, "portal-sqs").get("message").asText())
                .isEqualTo("SQS refuses: the queue does not exist (check portal.sqs.queue or portal.sqs.queue-url)");
        assertLive();

        emulators.createQueue(queueName);
        awaitReady(200);
    }

    @Test
    void should_answer_probes_from_the_cache_so_that_backends_see_at_most_one_check_per_period() throws Exception {
        int sqsBefore = SQS_CHECKS.get();
        int mongoBefore = MONGO_PINGS.get();
        long started = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> probes = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < 20; i++) {
                probes.add(http.sendAsync(HttpRequest.newBuilder(service.uri("/observe/health/ready"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> probe : probes) {
                assertThat(probe.get().statusCode()).isEqualTo(200);
            }
            probes.clear();
        }
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;

        // 100 probes; the answer is renewed at most once per cache period (and once more for the period under way)
        long bound = elapsedMs / CACHE_MS + 1;
        assertThat(SQS_CHECKS.get() - sqsBefore).as("GetQueueAttributes calls in %d ms", elapsedMs)
                .isLessThanOrEqualTo((int) bound);
        assertThat(MONGO_PINGS.get() - mongoBefore).as("MongoDB pings in %d ms", elapsedMs)
                .isLessThanOrEqualTo((int) bound);
        assertThat(elapsedMs).as("the probes should have been answered quickly").isLessThan(CACHE_MS * 5);
    }

    @Test
    void should_show_the_fallback_depth_above_the_threshold_as_a_detail_of_an_up_check() throws Exception {
        sqsProxy.down();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> kept = http.send(service.jsonPost("/api/tasks",
                    "{\"action\":\"fallback_depth\",\"data\":{\"n\":" + i + "}}").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(JSON.readTree(kept.body()).path("fallback").asBoolean()).as(kept.body()).isTrue();
        }

        JsonNode fallback = await().atMost(Duration.ofSeconds(15)).until(
                () -> check(health("/observe/health/ready?data=true").body, "portal-task-fallback"),
                node -> node.path("data").path("depth").asLong() == 3);
        assertThat(fallback.get("status").asText()).isEqualTo("UP");
        assertThat(fallback.get("message").asText())
                .isEqualTo("Fallback holds 3 tasks, above the threshold of 2 (portal.health.fallback-threshold):"
                           + " SQS has not been taking tasks; they are redriven once it does. Readiness is not affected");
        assertThat(fallback.path("data").path("above.threshold").asBoolean()).isTrue();

        sqsProxy.up();
        // the redrive empties the fallback into the queue, and the check reports it
        await().atMost(Duration.ofSeconds(20)).until(
                () -> check(health("/observe/health/ready?data=true").body, "portal-task-fallback")
                        .path("data").path("depth").asLong(), depth -> depth == 0);
        assertThat(mongo.getDatabase(database).getCollection("send_task_fallback").countDocuments()).isZero();
    }

    private record Health(int status, JsonNode body) {
    }

    private Health health(String path) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(service.uri(path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return new Health(response.statusCode(), JSON.readTree(response.body()));
    }

    private JsonNode awaitReady(int status) {
        return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> health("/observe/health/ready"), health -> health.status() == status).body();
    }

    private void assertLive() throws Exception {
        Health live = health("/observe/health/live");
        assertThat(live.status()).as(live.body().toString()).isEqualTo(200);
        assertThat(live.body().get("status").asText()).isEqualTo("UP");
        for (JsonNode check : live.body().path("checks")) {
            assertThat(check.get("name").asText()).doesNotStartWith("portal-");
        }
    }

    private static JsonNode check(JsonNode health, String name) {
        for (JsonNode check : health.path("checks")) {
            if (name.equals(check.path("name").asText())) {
                return check;
            }
        }
        throw new AssertionError("no check " + name + " in " + health);
    }

    /**
     * The service's SQS and MongoDB clients, bound before the service looks for its own (as a host application's
     * would be), built like the service builds them, and counting the calls of the health checks.
     */
    public static class CountingClients implements CamelConfiguration {

        @Override
        public void configure(CamelContext context) {
            PropertiesComponent properties = context.getPropertiesComponent();
            SqsClient sqs = EmbeddedEmulators.sqsClientBuilder(
                    properties.resolveProperty("portal.sqs.endpoint").orElseThrow())
                    .overrideConfiguration(o -> o.addExecutionInterceptor(new ExecutionInterceptor() {
                        @Override
                        public void beforeExecution(Context.BeforeExecution execution, ExecutionAttributes attributes) {
                            if (execution.request() instanceof GetQueueAttributesRequest) {
                                SQS_CHECKS.incrementAndGet();
                            }
                        }
                    }))
                    .build();
            MongoClient mongo = MongoClients.create(MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString(
                            properties.resolveProperty("portal.mongodb.uri").orElseThrow()))
                    .addCommandListener(new CommandListener() {
                        @Override
                        public void commandStarted(CommandStartedEvent event) {
                            if (event.getCommandName().equals("ping")) {
                                MONGO_PINGS.incrementAndGet();
                            }
                        }
                    })
                    .build());
            context.getRegistry().bind("testSqsClient", sqs);
            context.getRegistry().bind("testMongoClient", mongo);
        }
    }
}
