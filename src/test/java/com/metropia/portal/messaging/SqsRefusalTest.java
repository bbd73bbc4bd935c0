package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.tasks.SqsErrors;
import com.metropia.portal.messaging.tasks.TaskFallback;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import org.apache.logging.log4j.Level;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SQS refusing the service's own settings (here: the queue was deleted under a running service) is not an outage:
 * nothing is kept for later, the caller gets 502 and the log an ERROR, and the redrive keeps what it has without
 * using up attempts until the queue is back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqsRefusalTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newHttpClient();
    private final SqsClient sqs = emulators.newSqsClient();
    private final MongoClient mongo = MongoClients.create(emulators.mongoUri());

    @AfterAll
    void closeClients() {
        sqs.close();
        mongo.close();
    }

    @Test
    void should_answer_502_keep_nothing_and_log_an_error_when_the_queue_does_not_exist() throws Exception {
        String queueUrl = emulators.createQueue("refused-queue");
        String database = "portal_refused_queue";
        String task = "{\"action\":\"a\",\"data\":{\"n\":1}}";
        try (PortalService service = PortalService.start(PortalService.emulatorProperties(emulators, queueUrl, database));
             CapturedLogs errors = CapturedLogs.of(SqsErrors.class.getName(), Level.ERROR)) {
            sqs.deleteQueue(b -> b.queueUrl(queueUrl));

            HttpResponse<String> refused = post(service, task, "refused-1");

            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(502);
            assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(refused.headers().firstValue("Retry-After")).isEmpty();
            JsonNode problem = JSON.readTree(refused.body());
            assertThat(problem.get("title").asText()).isEqualTo("Bad Gateway");
            assertThat(problem.get("detail").asText()).startsWith("The task was not queued")
                    .contains("this service's SQS configuration").contains("Nothing was queued or kept")
                    // what SQS said is for the log, not for the caller
                    .doesNotContain("QueueDoesNotExist").doesNotContain(queueUrl);
            assertThat(fallback(database).countDocuments()).isZero();
            assertThat(errors.lines()).anySatisfy(line -> assertThat(line).startsWith("ERROR")
                    .contains("QueueDoesNotExist"));

            // the key was freed: once the queue exists again, the retry sends the task
            String recreated = emulators.createQueue("refused-queue");
            assertThat(recreated).isEqualTo(queueUrl);
            HttpResponse<String> retry = post(service, task, "refused-1");
            assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
            List<Message> messages = PortalTestSupport.receive(sqs, queueUrl, 1, Duration.ofSeconds(10));
            assertThat(messages).singleElement().satisfies(message -> {
                assertThat(message.body()).isEqualTo(task);
                assertThat(message.messageId()).isEqualTo(JSON.readTree(retry.body()).get("messageId").asText());
            });
        }
    }

    @Test
    void should_keep_redriving_tasks_without_using_up_attempts_while_the_queue_does_not_exist() throws Exception {
        String queueUrl = emulators.createQueue("refused-redrive");
        String database = "portal_refused_redrive";
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.tasks.redrive-period-ms", "100");
        properties.put("portal.tasks.redrive-max-attempts", "2");
        ObjectId id = new ObjectId();
        String task = "{\"action\":\"kept\",\"data\":{}}";
        try (PortalService service = PortalService.start(properties);
             CapturedLogs errors = CapturedLogs.of(TaskFallback.class.getName(), Level.ERROR)) {
            sqs.deleteQueue(b -> b.queueUrl(queueUrl));
            fallback(database).insertOne(TaskRedriveTest.keptTask(id, task, "refused-redrive", queueUrl, 0));

            await().atMost(Duration.ofSeconds(15)).until(() -> errors.lines().stream()
                    .filter(line -> line.contains("because of the service's SQS settings")).count() >= 5);

            Document kept = fallback(database).find(Filters.eq("_id", id)).first();
            assertThat(kept).isNotNull();
            assertThat(kept.getInteger("attempts")).isZero();
            assertThat(kept.getString("error")).contains("QueueDoesNotExist");
            assertThat(mongo.getDatabase(database).getCollection("send_task_dead").countDocuments()).isZero();

            emulators.createQueue("refused-redrive");
            assertThat(PortalTestSupport.receive(sqs, queueUrl, 1, Duration.ofSeconds(15))).extracting(Message::body)
                    .containsExactly(task);
            await().atMost(Duration.ofSeconds(10)).until(() -> fallback(database).countDocuments() == 0);
        }
    }

    private MongoCollection<Document> fallback(String database) {
        return mongo.getDatabase(database).getCollection("send_task_fallback");
    }

    private HttpResponse<String> post(PortalService service, String body, String key)
            throws IOException, InterruptedException {
        return http.send(service.jsonPost("/api/tasks", body).header("Idempotency-Key", key).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
