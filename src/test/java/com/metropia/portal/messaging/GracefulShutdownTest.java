package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * On shutdown the requests in flight finish and get their whole answer, with what they sent stored; a new request gets
 * 503 with Retry-After, never a reset.
 */
class GracefulShutdownTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void should_store_the_requests_in_flight_and_answer_503_to_new_ones_while_stopping() throws Exception {
        String queueUrl = emulators.createQueue("shutdown");
        String database = "portal_shutdown";
        String run = UUID.randomUUID().toString();
        try (HoldingProxy sqsProxy = HoldingProxy.to(emulators.sqsPort());
             HoldingProxy mongoProxy = HoldingProxy.to(emulators.mongoPort());
             SqsClient sqs = emulators.newSqsClient();
             MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
            Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
            // the service reaches SQS and MongoDB through the proxies, which hold what it sends while the test says so
            properties.put("portal.sqs.endpoint", "http://127.0.0.1:" + sqsProxy.port());
            properties.put("portal.sqs.queue-url", queueUrl);
            properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + mongoProxy.port());
            PortalService service = PortalService.start(properties);
            CompletableFuture<Void> stopping = null;
            try {
                // connections open, so what is held below is the requests themselves
                assertThat(send(service, task(run, "warm-up")).statusCode()).isEqualTo(202);
                assertThat(send(service, event(run, "warm-up")).statusCode()).isEqualTo(201);

                sqsProxy.hold();
                mongoProxy.hold();
                CompletableFuture<HttpResponse<String>> task = sendAsync(service, task(run, "in-flight"));
                CompletableFuture<HttpResponse<String>> events = sendAsync(service, event(run, "in-flight"));
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> sqsProxy.heldBytes() > 0 && mongoProxy.heldBytes() > 0
                                     && service.context().getInflightRepository().size() >= 2);

                stopping = CompletableFuture.runAsync(service::close);
                await().atMost(Duration.ofSeconds(10)).until(() -> service.context().isStopping());
                for (Call call : List.of(task(run, "too-late"), event(run, "too-late"))) {
                    HttpResponse<String> during = send(service, call);
                    assertThat(during.statusCode()).as(during.body()).isEqualTo(503);
                    assertThat(during.headers().firstValue("Retry-After")).hasValue("5");
                    assertThat(during.body()).contains("shutting down");
                    assertThat(during.headers().firstValue("X-Request-Id")).hasValueSatisfying(id ->
                            assertThat(during.body()).contains("\"requestId\":\"" + id + "\""));
                }
                assertThat(task).as("held at SQS, the task waits").isNotDone();
                assertThat(events).as("held at MongoDB, the events wait").isNotDone();

                sqsProxy.release();
                mongoProxy.release();
                HttpResponse<String> taskAnswer = task.get(30, TimeUnit.SECONDS);
                assertThat(taskAnswer.statusCode()).as(taskAnswer.body()).isEqualTo(202);
                HttpResponse<String> eventsAnswer = events.get(30, TimeUnit.SECONDS);
                assertThat(eventsAnswer.statusCode()).as(eventsAnswer.body()).isEqualTo(201);
                stopping.get(60, TimeUnit.SECONDS);

                // what the answers acknowledged is there, and nothing of the refused requests
                String messageId = JSON.readTree(taskAnswer.body()).get("messageId").asText();
                List<Message> messages = PortalTestSupport.receive(sqs, queueUrl, 2, Duration.ofSeconds(10));
                assertThat(messages).extracting(Message::body)
                        .containsExactlyInAnyOrder(task(run, "warm-up").body(), task(run, "in-flight").body());
                assertThat(messages).extracting(Message::messageId).contains(messageId);
                JsonNode stored = JSON.readTree(eventsAnswer.body());
                List<Document> documents = mongo.getDatabase(database).getCollection("send_event")
                        .find(Filters.eq("data.eventMeta.run", run)).into(new ArrayList<>());
                assertThat(documents).extracting(document -> document.getList("data", Document.class).get(0)
                        .get("eventMeta", Document.class).getString("step"))
                        .containsExactlyInAnyOrder("warm-up", "in-flight");
                assertThat(documents).extracting(document -> String.valueOf(document.get("_id")))
                        .contains(stored.get("ids").get(0).asText());
            } finally {
                sqsProxy.release();
                mongoProxy.release();
                if (stopping == null) {
                    service.close();
                } else {
                    stopping.get(60, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** A POST of JSON to a path of the API. */
    private record Call(String path, String body) {
    }

    private static Call task(String run, String step) {
        return new Call("/api/tasks",
                "{\"action\":\"shutdown_test\",\"data\":{\"run\":\"" + run + "\",\"step\":\"" + step + "\"}}");
    }

    private static Call event(String run, String step) {
        return new Call("/api/events", "[{\"userIds\":[\"1\"],\"eventName\":\"trip_completed\",\"eventMeta\":{\"run\":\""
                                       + run + "\",\"step\":\"" + step + "\"}}]");
    }

    private HttpResponse<String> send(PortalService service, Call call) throws Exception {
        return sendAsync(service, call).get(60, TimeUnit.SECONDS);
    }

    private CompletableFuture<HttpResponse<String>> sendAsync(PortalService service, Call call) {
        return http.sendAsync(service.jsonPost(call.path(), call.body()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
