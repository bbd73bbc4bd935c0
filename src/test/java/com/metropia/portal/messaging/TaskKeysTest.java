package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.tasks.TaskKeys;
import java.time.Duration;
import java.util.Map;

import com.metropia.portal.messaging.bench.FaultProxy;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

/**
 * Task keys when MongoDB fails just after SQS took the task (or after it refused it): what could not be written waits
 * in memory, answers the retries that reach this instance, and is written once MongoDB answers again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskKeysTest {

    private static final String TASK = "{\"action\":\"a\",\"data\":{\"n\":1}}";
    /** Long enough for a first connection on a busy machine, short enough to fail soon while MongoDB is cut off. */
    private static final int SELECTION_MS = 2000;

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final MongoClient mongo = MongoClients.create(emulators.mongoUri());

    @AfterAll
    void closeClient() {
        mongo.close();
    }

    @Test
    void should_answer_a_retry_from_memory_and_record_it_later_when_mongodb_failed_to_record_the_message_id()
            throws Exception {
        String database = "portal_keys_record";
        try (FaultProxy mongodb = FaultProxy.start("MongoDB", "127.0.0.1", emulators.mongoPort());
             MongoClient throughProxy = MongoClients.create("mongodb://127.0.0.1:" + mongodb.port()
                                                            + "/?serverSelectionTimeoutMS=" + SELECTION_MS);
             DefaultCamelContext context = new DefaultCamelContext()) {
            context.getRegistry().bind("portalMongoClient", throughProxy);
            // a reservation counts as abandoned at once: only the record keeps another instance from sending again
            TaskKeys keys = new TaskKeys(database, "send_task_keys", Duration.ofMillis(1), Duration.ofHours(24));
            Exchange first = request(context, "key-1");
            keys.reserve(first);
            assertThat(first.getProperty(TaskKeys.REPLAY)).isNull();

            mongodb.down();   // SQS took the task; MongoDB is gone before the record
            first.getMessage().setBody(Map.of("messageId", "m-1", "md5OfBody", "d-1"));
            assertThatCode(() -> keys.sent(first)).doesNotThrowAnyException();
            Exchange retry = request(context, "key-1");
            keys.reserve(retry);
            assertThat(retry.getProperty(TaskKeys.REPLAY, Map.class)).containsEntry("messageId", "m-1");

            mongodb.up();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                keys.writePending(request(context, "any"));
                Document record = keys(database).find(Filters.eq("_id", Idempotency.sha256("key-1"))).first();
                return record != null && "m-1".equals(record.getString("messageId"));
            });
            // another instance, which has nothing in memory, answers from the record and sends nothing
            Exchange elsewhere = request(context, "key-1");
            new TaskKeys(database, "send_task_keys", Duration.ofMillis(1), Duration.ofHours(24)).reserve(elsewhere);
            assertThat(elsewhere.getProperty(TaskKeys.REPLAY, Map.class)).containsEntry("messageId", "m-1");
        }
    }

    @Test
    void should_free_the_key_of_a_task_not_queued_once_mongodb_answers_again() throws Exception {
        String database = "portal_keys_free";
        try (FaultProxy mongodb = FaultProxy.start("MongoDB", "127.0.0.1", emulators.mongoPort());
             MongoClient throughProxy = MongoClients.create("mongodb://127.0.0.1:" + mongodb.port()
                                                            + "/?serverSelectionTimeoutMS=" + SELECTION_MS);
             DefaultCamelContext context = new DefaultCamelContext()) {
            context.getRegistry().bind("portalMongoClient", throughProxy);
            TaskKeys keys = new TaskKeys(database, "send_task_keys", Duration.ofHours(1), Duration.ofHours(24));
            Exchange first = request(context, "key-2");
            keys.reserve(first);

            mongodb.down();   // the task was not queued, and MongoDB is gone before the key is freed
            assertThatCode(() -> keys.free(first)).doesNotThrowAnyException();
            mongodb.up();

            // the retry is not told "being sent" for an hour: the release is written first, then the key reserved anew
            Exchange retry = request(context, "key-2");
            await().atMost(Duration.ofSeconds(10)).ignoreExceptionsMatching(e -> !(e instanceof IdempotencyConflictException))
                    .untilAsserted(() -> keys.reserve(retry));
            assertThat(retry.getProperty(TaskKeys.REPLAY)).isNull();
            assertThat(retry.getProperty(TaskKeys.KEY)).isEqualTo(Idempotency.sha256("key-2"));
        }
    }

    @Test
    void should_make_the_keys_expire_after_the_ttl_hours() throws Exception {
        String database = "portal_keys_ttl";
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            context.getRegistry().bind("portalMongoClient", mongo);
            TaskKeys keys = new TaskKeys(database, "send_task_keys", Duration.ofMinutes(1), Duration.ofHours(2));
            keys.reserve(request(context, "key-3"));
            keys.reserve(request(context, "key-4"));

            assertThat(keys(database).listIndexes()).filteredOn(index -> index.get("key", Document.class)
                            .containsKey("created_at"))
                    .singleElement().satisfies(index -> assertThat(index.get("expireAfterSeconds", Number.class)
                            .longValue()).isEqualTo(2 * 3600));
        }
    }

    private static Exchange request(DefaultCamelContext context, String key) {
        Exchange exchange = new DefaultExchange(context);
        exchange.getMessage().setHeader("Idempotency-Key", key);
        exchange.getMessage().setBody(TASK);
        return exchange;
    }

    private MongoCollection<Document> keys(String database) {
        return mongo.getDatabase(database).getCollection("send_task_keys");
    }
}
