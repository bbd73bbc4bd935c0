package com.metropia.portal.messaging;

import com.metropia.portal.messaging.tasks.PortalTasks;
import com.metropia.portal.messaging.tasks.TaskFallback;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

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
 * The redrive sends each kept task only to the queue it was kept for, and one task SQS will not take does not hold up
 * the tasks behind it: it waits its own backoff, and after its attempts (or at once, when SQS refuses the message as
 * such) it moves to the dead-letter collection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskRedriveTest {

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
    void should_move_a_message_sqs_refuses_to_the_dead_letters_at_once_and_send_the_tasks_behind_it() throws Exception {
        String queueUrl = emulators.createQueue("redrive-poison");
        String database = "portal_redrive_poison";
        // larger than the queue takes: SQS refuses this message, and would refuse it on every attempt
        String poison = "{\"action\":\"big\",\"data\":{\"blob\":\"" + "x".repeat(PortalTasks.SQS_MAX_MESSAGE_BYTES) + "\"}}";
        ObjectId poisonId = new ObjectId();
        fallback(database).insertOne(keptTask(poisonId, poison, "redrive-poison", queueUrl, 0));
        List<String> good = new ArrayList<>();
        List<String> taskIds = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            good.add("{\"action\":\"good\",\"data\":{\"n\":" + n + "}}");
            Document kept = keptTask(new ObjectId(), good.get(n - 1), "redrive-poison", queueUrl, n);
            taskIds.add(kept.getString("taskId"));
            fallback(database).insertOne(kept);
        }
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.tasks.redrive-period-ms", "100");

        try (CapturedLogs errors = CapturedLogs.of(TaskFallback.class.getName(), Level.ERROR);
             PortalService service = PortalService.start(properties)) {
            List<Message> messages = receive(queueUrl, 3, Duration.ofSeconds(20));

            assertThat(messages).extracting(Message::body).containsExactlyElementsOf(good);
            assertThat(messages).extracting(message -> message.messageAttributes().get("taskId").stringValue())
                    .containsExactlyElementsOf(taskIds);
            await().atMost(Duration.ofSeconds(10)).until(() -> fallback(database).countDocuments() == 0);
            Document dead = deadLetters(database).find(Filters.eq("_id", poisonId)).first();
            assertThat(dead).isNotNull();
            assertThat(dead.getString("body")).isEqualTo(poison);
            assertThat(dead.get("dead_at")).isInstanceOf(Date.class);
            assertThat(dead.getString("lastError")).contains("MessageTooLong");
            assertThat(dead.getInteger("attempts")).isEqualTo(1);
            assertThat(deadLetters(database).countDocuments()).isEqualTo(1);
            TaskFallback redrive = service.context().getRegistry().lookupByNameAndType("portalTaskFallback",
                    TaskFallback.class);
            assertThat(redrive.deadLettered()).containsEntry(database + ".send_task_dead", 1L);
            assertThat(redrive.deadLetterCount(service.context(), database, "send_task_dead")).isEqualTo(1);
            assertThat(errors.lines()).anySatisfy(line -> assertThat(line).startsWith("ERROR Task " + poisonId)
                    .contains("dead-letter collection send_task_dead"));
        }
        assertThat(receive(queueUrl, 1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_give_a_failing_task_its_own_backoff_and_dead_letter_it_after_its_attempts_while_others_move()
            throws Exception {
        String queueUrl = emulators.createQueue("redrive-attempts");
        String database = "portal_redrive_attempts";
        // the emulator answers 400 to this text (real SQS: InvalidMessageContents); only this task fails
        String failing = "{\"action\":\"odd\",\"data\":{\"text\":\"\uFFFF\"}}";
        ObjectId failingId = new ObjectId();
        fallback(database).insertOne(keptTask(failingId, failing, "redrive-attempts", queueUrl, 0));
        List<String> good = List.of("{\"action\":\"good\",\"data\":{\"n\":1}}", "{\"action\":\"good\",\"data\":{\"n\":2}}");
        for (int n = 0; n < good.size(); n++) {
            fallback(database).insertOne(keptTask(new ObjectId(), good.get(n), "redrive-attempts", queueUrl, n + 1));
        }
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.put("portal.tasks.redrive-period-ms", "100");
        properties.put("portal.tasks.redrive-max-attempts", "3");

        try (PortalService service = PortalService.start(properties)) {
            // the tasks behind the failing one are not held up
            assertThat(receive(queueUrl, 2, Duration.ofSeconds(20))).extracting(Message::body)
                    .containsExactlyElementsOf(good);
            // new tasks keep coming: the queue works, so the failures are the task's own and use up its attempts
            List<String> sent = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
                String task = "{\"action\":\"new\",\"data\":{\"n\":" + sent.size() + "}}";
                assertThat(post(service, task).statusCode()).isEqualTo(202);
                sent.add(task);
                return deadLetters(database).countDocuments(Filters.eq("_id", failingId)) == 1;
            });

            Document dead = deadLetters(database).find(Filters.eq("_id", failingId)).first();
            assertThat(dead.getInteger("attempts")).isEqualTo(3);
            assertThat(dead.getString("lastError")).contains("Status Code: 400");
            assertThat(fallback(database).countDocuments()).isZero();
            assertThat(receive(queueUrl, sent.size(), Duration.ofSeconds(10))).extracting(Message::body)
                    .containsExactlyInAnyOrderElementsOf(sent);
            assertThat(receive(queueUrl, 1, Duration.ofSeconds(1))).isEmpty();
        }
    }

    @Test
    void should_send_each_kept_task_only_to_the_queue_it_was_kept_for_when_instances_share_the_collection()
            throws Exception {
        String queueA = emulators.createQueue("redrive-queue-a");
        String queueB = emulators.createQueue("redrive-queue-b");
        String database = "portal_redrive_queues";
        // kept before the queue URL was recorded: matched by queue name
        fallback(database).insertOne(keptTask(new ObjectId(), "{\"action\":\"old\",\"data\":{\"of\":\"a\"}}",
                "redrive-queue-a", null, 0));
        fallback(database).insertOne(keptTask(new ObjectId(), "{\"action\":\"old\",\"data\":{\"of\":\"b\"}}",
                "redrive-queue-b", null, 1));
        Map<String, String> propertiesA = PortalService.emulatorProperties(emulators, queueA, database);
        propertiesA.put("portal.tasks.redrive-period-ms", "100");
        try (SqsCut sqsCut = new SqsCut(emulators)) {
            Map<String, String> propertiesB = sqsCut.through(PortalService.emulatorProperties(emulators, queueB,
                    database), queueB);
            propertiesB.put("portal.tasks.redrive-period-ms", "100");
            try (PortalService a = PortalService.start(propertiesA);
                 PortalService b = PortalService.start(propertiesB)) {
                sqsCut.cut();
                List<String> keptByB = new ArrayList<>();
                for (int n = 0; n < 3; n++) {
                    keptByB.add("{\"action\":\"b\",\"data\":{\"n\":" + n + "}}");
                    HttpResponse<String> response = post(b, keptByB.get(n));
                    assertThat(response.statusCode()).isEqualTo(202);
                    assertThat(JSON.readTree(response.body()).get("fallback").asBoolean()).isTrue();
                }

                // A redrives what is A's, and leaves B's tasks alone while B cannot reach SQS
                assertThat(receive(queueA, 4, Duration.ofSeconds(3))).extracting(Message::body)
                        .containsExactly("{\"action\":\"old\",\"data\":{\"of\":\"a\"}}");
                assertThat(fallback(database).countDocuments(Filters.eq("queueUrl", queueB))).isEqualTo(3);

                sqsCut.restore();
                List<String> expectedOnB = new ArrayList<>(keptByB);
                expectedOnB.add("{\"action\":\"old\",\"data\":{\"of\":\"b\"}}");
                assertThat(receive(queueB, 4, Duration.ofSeconds(20))).extracting(Message::body)
                        .containsExactlyInAnyOrderElementsOf(expectedOnB);
                await().atMost(Duration.ofSeconds(10)).until(() -> fallback(database).countDocuments() == 0);
                assertThat(receive(queueA, 1, Duration.ofSeconds(1))).isEmpty();
                assertThat(receive(queueB, 1, Duration.ofSeconds(1))).isEmpty();
            }
        }
    }

    /**
     * A task as the service keeps it, n milliseconds after a common start, for the queue named (the URL null for a
     * document kept before queue URLs were recorded).
     */
    static Document keptTask(ObjectId id, String body, String queue, String queueUrl, int n) {
        String taskId = UUID.randomUUID().toString();
        Document kept = new Document("_id", id).append("body", body).append("queue", queue);
        if (queueUrl != null) {
            kept.append("queueUrl", queueUrl);
        }
        return kept.append("messageGroupId", "portal-tasks").append("taskId", taskId)
                .append("deduplicationId", taskId).append("created_at", new Date(System.currentTimeMillis() - 60_000 + n))
                .append("reason", "SQS was unavailable: test").append("claimedUntil", new Date(0))
                .append("attempts", 0).append("nextAttemptAt", new Date(0));
    }

    private MongoCollection<Document> fallback(String database) {
        return mongo.getDatabase(database).getCollection("send_task_fallback");
    }

    private MongoCollection<Document> deadLetters(String database) {
        return mongo.getDatabase(database).getCollection("send_task_dead");
    }

    private List<Message> receive(String queueUrl, int expected, Duration within) {
        return PortalTestSupport.receive(sqs, queueUrl, expected, within);
    }

    private HttpResponse<String> post(PortalService service, String body) throws IOException, InterruptedException {
        return http.send(service.jsonPost("/api/tasks", body).build(), HttpResponse.BodyHandlers.ofString());
    }
}
