package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.tasks.TaskFallback;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.bench.FaultProxy;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * While SQS does not take tasks, they are kept in MongoDB ({@code send_task_fallback}) and the caller gets 202 with
 * {@code "fallback": true}; the redrive route sends them to SQS once it is back, oldest first, even after a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskFallbackTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A queue URL for the tests that call the redrive's methods without SQS. */
    private static final String QUEUE_URL = "http://127.0.0.1:1/000000000000/q";

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newHttpClient();
    private final SqsClient sqs = emulators.newSqsClient();
    private final MongoClient mongo = MongoClients.create(emulators.mongoUri());
    private final SqsCut sqsCut = new SqsCut(emulators);

    @AfterAll
    void closeClients() {
        sqs.close();
        mongo.close();
        sqsCut.close();
    }

    @BeforeEach
    void reconnectSqs() {
        sqsCut.restore();
    }

    @Test
    void should_keep_a_task_sqs_did_not_take_and_answer_202_with_fallback() throws Exception {
        String queueUrl = emulators.createQueue("fallback-kept");
        try (PortalService service = startWithoutSqs(withoutSqs(queueUrl, "portal_fallback_kept"))) {
            HttpResponse<String> response = post(service, "{\"action\":\"send_push\",\"data\":{\"user_id\":7,\"fare\":12.50}}", null);

            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            JsonNode reply = JSON.readTree(response.body());
            assertThat(reply.get("fallback").asBoolean()).isTrue();
            Document kept = fallback("portal_fallback_kept").find(new Document("_id", new ObjectId(reply.get("fallbackId").asText()))).first();
            assertThat(kept).isNotNull();
            assertThat(kept.getString("body")).isEqualTo("{\"action\":\"send_push\",\"data\":{\"user_id\":7,\"fare\":12.50}}");
            assertThat(kept.get("created_at")).isInstanceOf(java.util.Date.class);
            assertThat(kept.getString("error")).contains("SdkClientException").contains("Unable to execute HTTP request");
            // why it was kept, and for which queue: only a redrive of this queue URL sends it
            assertThat(kept.getString("reason")).startsWith("SQS was unavailable").contains("SdkClientException");
            assertThat(kept.getString("queueUrl")).isEqualTo(queueUrl);
            assertThat(kept.getString("taskId")).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
                    .isEqualTo(kept.getString("deduplicationId"));
        }
        assertThat(receive(queueUrl, 1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_answer_503_and_keep_nothing_when_mongodb_does_not_answer_either() throws Exception {
        Map<String, String> properties = withoutSqs(emulators.createQueue("fallback-none"), "portal_fallback_none");
        properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + PortalService.freePort() + "/?serverSelectionTimeoutMS=300");
        properties.put("portal.mongodb.max-attempts", "2");
        try (PortalService service = startWithoutSqs(properties)) {
            HttpResponse<String> response = http.send(service.jsonPost("/api/tasks", "{\"action\":\"a\",\"data\":{}}")
                    .header("X-Request-Id", "kept-nowhere-1").build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
            // the caller's id, though the route removed the headers before its send to SQS
            assertThat(response.headers().firstValue("X-Request-Id")).hasValue("kept-nowhere-1");
            assertThat(JSON.readTree(response.body()).get("requestId").asText()).isEqualTo("kept-nowhere-1");
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.headers().firstValue("Retry-After")).hasValue("5");
            assertThat(JSON.readTree(response.body()).get("detail").asText())
                    .startsWith("The task was not queued: SQS did not accept it")
                    .contains("MongoDB did not keep it for later");
        }
        assertThat(fallback("portal_fallback_none").countDocuments()).isZero();
    }

    @Test
    void should_answer_a_retry_with_the_same_key_from_the_kept_task() throws Exception {
        try (PortalService service = startWithoutSqs(withoutSqs(emulators.createQueue("fallback-key"), "portal_fallback_key"))) {
            HttpResponse<String> first = post(service, "{\"action\":\"a\",\"data\":{\"n\":1}}", "retry-me");
            HttpResponse<String> retry = post(service, "{\"action\":\"a\",\"data\":{\"n\":1}}", "retry-me");

            assertThat(first.statusCode()).isEqualTo(202);
            assertThat(retry.statusCode()).isEqualTo(202);
            assertThat(retry.body()).isEqualTo(first.body());
        }
        assertThat(fallback("portal_fallback_key").countDocuments()).isEqualTo(1);
    }

    @Test
    void should_redrive_kept_tasks_to_sqs_oldest_first_after_a_restart() throws Exception {
        String queueUrl = emulators.createQueue("fallback-redrive");
        String database = "portal_fallback_redrive";
        List<String> bodies = List.of("{\"action\":\"a\",\"data\":{\"n\":1}}", "{\"action\":\"a\",\"data\":{\"n\":2}}",
                "{\"action\":\"a\",\"data\":{\"n\":3}}");
        try (PortalService withoutSqs = startWithoutSqs(withoutSqs(queueUrl, database))) {
            for (String body : bodies) {
                assertThat(post(withoutSqs, body, body.equals(bodies.get(1)) ? "second-task" : null).statusCode())
                        .isEqualTo(202);
            }
        }
        assertThat(fallback(database).countDocuments()).isEqualTo(3);
        sqsCut.restore();

        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.tasks.redrive-period-ms", "200");
        try (PortalService service = PortalService.start(properties)) {
            List<Message> messages = receive(queueUrl, 3, Duration.ofSeconds(20));

            assertThat(messages).extracting(Message::body).containsExactlyElementsOf(bodies);
            // one attribute, the id the task was kept with: the hash of its Idempotency-Key, or the id it was given
            assertThat(messages).allSatisfy(message -> assertThat(message.messageAttributes()).containsOnlyKeys("taskId"));
            assertThat(messages.get(1).messageAttributes().get("taskId").stringValue())
                    .isEqualTo(sha256("second-task"));
            List<String> keptIds = new ArrayList<>();
            messages.forEach(message -> keptIds.add(message.messageAttributes().get("taskId").stringValue()));
            assertThat(keptIds).doesNotHaveDuplicates();
            await().atMost(Duration.ofSeconds(10)).until(() -> fallback(database).countDocuments() == 0);
            // the request that used a key, retried now, learns the message id and sends nothing
            HttpResponse<String> retry = post(service, bodies.get(1), "second-task");
            assertThat(JSON.readTree(retry.body()).get("messageId").asText()).as(retry.body() + messages).isEqualTo(messages.get(1).messageId());
            assertThat(receive(queueUrl, 1, Duration.ofSeconds(1))).isEmpty();
        }
    }

    @Test
    void should_send_each_kept_task_once_when_two_instances_redrive_the_same_collection() throws Exception {
        String queueUrl = emulators.createQueue("fallback-shared");
        String database = "portal_fallback_shared";
        List<String> bodies = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int n = 0; n < 40; n++) {
            // kept as the service keeps a task: the exact body, oldest first, not claimed
            ObjectId id = new ObjectId();
            bodies.add("{\"action\":\"a\",\"data\":{\"n\":" + n + "}}");
            fallback(database).insertOne(new Document("_id", id).append("body", bodies.get(n))
                    .append("queue", "fallback-shared").append("messageGroupId", "portal-tasks")
                    .append("deduplicationId", id.toHexString()).append("created_at", new java.util.Date(now - 40 + n))
                    .append("claimedUntil", new java.util.Date(0)).append("attempts", 0));
        }
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.tasks.redrive-period-ms", "100");
        try (PortalService first = PortalService.start(properties);
             PortalService second = PortalService.start(properties)) {
            List<Message> messages = receive(queueUrl, 40, Duration.ofSeconds(30));

            assertThat(messages).extracting(Message::body).containsExactlyInAnyOrderElementsOf(bodies);
            await().atMost(Duration.ofSeconds(10)).until(() -> fallback(database).countDocuments() == 0);
            assertThat(receive(queueUrl, 1, Duration.ofSeconds(2))).isEmpty();
        }
    }

    @Test
    void should_not_hand_back_a_task_sqs_took_when_mongodb_is_gone_before_its_delete() throws Exception {
        String database = "portal_fallback_delete";
        ObjectId id = new ObjectId();
        fallback(database).insertOne(new Document("_id", id).append("body", "{\"action\":\"a\",\"data\":{}}")
                .append("queue", "q").append("queueUrl", QUEUE_URL)
                .append("created_at", new java.util.Date()).append("claimedUntil", new java.util.Date(0)));
        // a claim of no length: without the remembered delete, the next pass would take the task again
        TaskFallback redrive = new TaskFallback(Duration.ZERO, Duration.ofMinutes(15));
        try (FaultProxy mongodb = FaultProxy.start("MongoDB", "127.0.0.1", emulators.mongoPort());
             // long enough for a first connection on a busy machine, short enough to fail soon while it is cut
             MongoClient throughProxy = MongoClients.create("mongodb://127.0.0.1:" + mongodb.port() + "/?serverSelectionTimeoutMS=2000");
             DefaultCamelContext context = new DefaultCamelContext()) {
            context.getRegistry().bind("portalMongoClient", throughProxy);
            Exchange pass = new DefaultExchange(context);
            redrive.claimNext(pass, database, "send_task_fallback", "q", QUEUE_URL);
            assertThat(pass.getMessage().getBody(String.class)).isEqualTo("{\"action\":\"a\",\"data\":{}}");

            mongodb.down();   // SQS acknowledged the task; MongoDB is gone before the delete
            assertThatThrownBy(() -> redrive.redriven(pass, database, "send_task_fallback", "q", QUEUE_URL)).isInstanceOf(MongoException.class);
            mongodb.up();
            Exchange next = new DefaultExchange(context);
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                redrive.claimNext(next, database, "send_task_fallback", "q", QUEUE_URL);
                return true;
            });

            assertThat(next.getMessage().getBody()).isNull();
        }
        assertThat(fallback(database).countDocuments()).isZero();
    }

    @Test
    void should_refuse_with_400_a_task_whose_text_sqs_does_not_take() throws Exception {
        String queueUrl = emulators.createQueue("fallback-invalid");
        try (PortalService service = PortalService.start(PortalService.emulatorProperties(emulators, queueUrl, "portal_fallback_invalid"))) {
            HttpResponse<String> noncharacter = post(service, "{\"action\":\"a\",\"data\":{\"text\":\"\\uFFFF\"}}", null);
            HttpResponse<String> loneSurrogate = post(service, "{\"action\":\"a\",\"data\":{\"text\":\"\\ud800\"}}", null);

            assertThat(noncharacter.statusCode()).isEqualTo(400);
            assertThat(noncharacter.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(JSON.readTree(noncharacter.body()).get("detail").asText()).contains("U+FFFF");
            assertThat(loneSurrogate.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(loneSurrogate.body()).get("detail").asText()).contains("U+D800");
        }
        assertThat(fallback("portal_fallback_invalid").countDocuments()).isZero();
        assertThat(receive(queueUrl, 1, Duration.ofSeconds(1))).isEmpty();
    }

    /** An instance of the queue whose SQS can be cut off ({@link #startWithoutSqs}). */
    private Map<String, String> withoutSqs(String queueUrl, String database) {
        return sqsCut.through(PortalService.emulatorProperties(emulators, queueUrl, database), queueUrl);
    }

    /** Starts while SQS answers, as a service with a working configuration would, then cuts it off. */
    private PortalService startWithoutSqs(Map<String, String> properties) {
        sqsCut.restore();
        PortalService service = PortalService.start(properties);
        sqsCut.cut();
        return service;
    }

    /** SHA-256 of the text in hex, computed here rather than by the code under test. */
    static String sha256(String text) throws java.security.NoSuchAlgorithmException {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private MongoCollection<Document> fallback(String database) {
        return mongo.getDatabase(database).getCollection("send_task_fallback");
    }

    private List<Message> receive(String queueUrl, int expected, Duration within) {
        return PortalTestSupport.receive(sqs, queueUrl, expected, within);
    }

    private HttpResponse<String> post(PortalService service, String body, String idempotencyKey)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = service.jsonPost("/api/tasks", body);
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
