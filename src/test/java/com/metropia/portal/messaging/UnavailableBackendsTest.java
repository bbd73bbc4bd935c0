package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.bench.FaultProxy;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When MongoDB does not answer, the caller gets a 503 that says what was not done, never a 2xx; SQS and MongoDB are
 * tried the configured number of times first. (A task SQS does not take is kept in MongoDB: TaskFallbackTest.)
 */
class UnavailableBackendsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void should_answer_503_and_claim_no_document_when_mongodb_is_unreachable() throws Exception {
        String queueUrl = emulators.createQueue("unavailable-mongo");
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, "portal_unavailable");
        properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + PortalService.freePort() + "/?serverSelectionTimeoutMS=300");
        try (PortalService service = PortalService.start(properties)) {
            HttpResponse<String> response = post(service, "/api/events",
                    "[{\"userIds\":[\"1\"],\"eventName\":\"trip_completed\",\"eventMeta\":{}},"
                                                                     + "{\"userIds\":[\"2\"],\"eventName\":\"trip_completed\",\"eventMeta\":{}}]");

            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.headers().firstValue("Retry-After")).hasValue("5");
            JsonNode problem = JSON.readTree(response.body());
            assertThat(problem.get("events").asInt()).isEqualTo(2);
            assertThat(problem.get("storedEvents").asInt()).isZero();
            assertThat(problem.get("documents").asInt()).isZero();
            assertThat(problem.get("ids")).isEmpty();
            assertThat(problem.get("failedBatches")).hasSize(1);
            assertThat(problem.get("failedBatches").get(0).get("firstEvent").asInt()).isZero();
            assertThat(problem.get("failedBatches").get(0).get("lastEvent").asInt()).isEqualTo(1);
            assertThat(problem.get("detail").asText()).contains("0 of 2 events are stored");
        }
        try (MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
            assertThat(mongo.getDatabase("portal_unavailable").getCollection("send_event").countDocuments()).isZero();
        }
    }

    @Test
    void should_try_mongodb_the_configured_number_of_times_and_not_make_later_batches_wait() throws Exception {
        Map<String, String> properties = PortalService.emulatorProperties(emulators,
                emulators.createQueue("unavailable-mongo"), "portal_unavailable");
        properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + PortalService.freePort() + "/?serverSelectionTimeoutMS=200");
        properties.put("portal.mongodb.max-attempts", "3");
        properties.put("portal.mongodb.retry-base-delay-ms", "50");
        properties.put("portal.events.batch-size", "2");
        try (PortalService service = PortalService.start(properties);
             CapturedLogs retries = CapturedLogs.of("org.apache.camel.processor.errorhandler.DefaultErrorHandler", Level.WARN)) {
            HttpResponse<String> response = post(service, "/api/events", PortalTestSupport.events(5, "r"));

            assertThat(response.statusCode()).isEqualTo(503);
            JsonNode failed = JSON.readTree(response.body()).get("failedBatches");
            assertThat(failed).hasSize(3);
            assertThat(failed.get(0).get("error").asText()).isEqualTo("MongoDB did not answer");
            // the driver's words (server address, cluster state) go to the log, not to the caller
            assertThat(response.body()).doesNotContain("127.0.0.1").doesNotContain("cluster state")
                    .doesNotContain("Exception");
            assertThat(failed.get(1).get("error").asText()).contains("not attempted");
            assertThat(failed.get(2).get("error").asText()).contains("not attempted");
            // one line per failed attempt, counted from 0: three attempts, then the batch is reported
            assertThat(retries.lines()).filteredOn(line -> line.contains("On delivery attempt")).hasSize(3)
                    .last().asString().contains("On delivery attempt: 2");
        }
    }

    @Test
    void should_store_the_events_when_mongodb_comes_back_before_the_last_attempt() throws Exception {
        try (FaultProxy mongodb = FaultProxy.start("MongoDB", "127.0.0.1", emulators.mongoPort())) {
            Map<String, String> properties = PortalService.emulatorProperties(emulators,
                    emulators.createQueue("mongo-back"), "portal_mongo_back");
            properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + mongodb.port() + "/?serverSelectionTimeoutMS=500");
            properties.put("portal.mongodb.max-attempts", "10");
            properties.put("portal.mongodb.retry-max-delay-ms", "500");
            try (PortalService service = PortalService.start(properties)) {
                mongodb.down();
                CompletableFuture<HttpResponse<String>> response = http.sendAsync(
                        service.jsonPost("/api/events", PortalTestSupport.events(3, "back")).build(),
                        HttpResponse.BodyHandlers.ofString());
                Thread.sleep(1500);
                assertThat(response).isNotDone();
                mongodb.up();

                assertThat(response.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
            }
        }
        try (MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
            assertThat(mongo.getDatabase("portal_mongo_back").getCollection("send_event").find().first()
                    .getList("data", Object.class)).hasSize(3);
        }
    }

    @Test
    void should_try_sqs_the_configured_number_of_times_before_keeping_the_task_in_mongodb() throws Exception {
        Map<String, String> properties = PortalService.withUnreachableSqs(PortalService.emulatorProperties(emulators,
                emulators.createQueue("unavailable-sqs"), "portal_unavailable_sqs"));
        properties.put("portal.sqs.max-attempts", "2");
        try (PortalService service = PortalService.start(properties)) {
            HttpResponse<String> response = post(service, "/api/tasks", "{\"action\":\"a\",\"data\":{}}");

            assertThat(response.statusCode()).isEqualTo(202);
            assertThat(JSON.readTree(response.body()).get("fallback").asBoolean()).isTrue();
        }
        try (MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
            assertThat(mongo.getDatabase("portal_unavailable_sqs").getCollection("send_task_fallback").find().first()
                    .getString("error")).contains("SDK Attempt Count: 2");
        }
    }

    private HttpResponse<String> post(PortalService service, String path, String body)
            throws IOException, InterruptedException {
        return http.send(service.jsonPost(path, body).build(), HttpResponse.BodyHandlers.ofString());
    }
}
