package com.metropia.portal.messaging;

import com.metropia.portal.messaging.tasks.TaskBatches;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.api.management.ManagedCamelContext;
import org.apache.camel.api.management.mbean.ManagedRouteMBean;
import org.apache.camel.spi.PropertiesComponent;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import com.mongodb.client.model.Filters;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code POST /api/tasks} with a JSON array: SendMessageBatch in chunks of at most 10 tasks and 1 MiB, one answer per
 * task in request order, 200 when every task was sent or kept and 207 when some were not.
 */
class TaskBatchTest extends PortalTestSupport {

    private SqsCut sqsCut;

    @Override
    protected Map<String, String> extraProperties() {
        sqsCut = new SqsCut(emulators);
        Map<String, String> properties = sqsCut.through(new HashMap<>(), queueUrl);
        properties.put("portal.tasks.max-batch", "30");
        return withTheRedriveOnceAtStart(properties);
    }

    @Override
    protected Class<?>[] configurationsFirst() {
        return new Class<?>[] {CountingSqsClient.class};
    }

    /**
     * The redrive's timer fires once a second after the start, then once an hour: a test that keeps tasks while that
     * first run is on would see them claimed, and sent into a later test's queue once SQS is back. The tests start
     * after it.
     */
    @BeforeAll
    void afterTheFirstRedrive() {
        awaitTheRedrivesFirstRun(service);
    }

    /**
     * The settings {@link #awaitTheRedrivesFirstRun} needs, added to the properties given: the redrive's next run an
     * hour after its first (it would move kept tasks to the queue while a test counts its messages), and JMX on (off by
     * default), through which its runs are counted.
     */
    static Map<String, String> withTheRedriveOnceAtStart(Map<String, String> properties) {
        properties.put("portal.tasks.redrive-period-ms", "3600000");
        properties.put("camel.main.jmx-enabled", "true");
        return properties;
    }

    /** Returns once the service's redrive has run once and has nothing in flight. */
    static void awaitTheRedrivesFirstRun(PortalService service) {
        ManagedRouteMBean redrive = service.context().getCamelContextExtension()
                .getContextPlugin(ManagedCamelContext.class).getManagedRoute("task-redrive");
        await("the redrive's first run").atMost(Duration.ofSeconds(15))
                .until(() -> redrive.getExchangesTotal() >= 1 && redrive.getExchangesInflight() == 0);
    }

    @BeforeEach
    void resetCount() {
        BATCH_CALLS.set(0);
        BATCH_ENTRIES.clear();
    }

    @AfterEach
    void restoreSqs() {
        sqsCut.restore();
    }

    @AfterAll
    void closeCut() {
        sqsCut.close();
    }

    @Test
    void should_send_25_tasks_in_3_batch_calls_once_each_and_answer_in_request_order() throws Exception {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            bodies.add("{\"action\":\"batch\",\"data\":{\"n\":" + i + ",\"fare\":12.50,\"note\":\"caf\u00e9\"}}");
        }
        HttpResponse<String> response = postJson("/api/tasks", "[" + String.join(", ", bodies) + "]");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode reply = json(response);
        assertThat(reply.get("sent").asInt()).isEqualTo(25);
        assertThat(reply.get("kept").asInt()).isZero();
        assertThat(reply.get("failed").asInt()).isZero();
        List<Message> messages = receiveAll(25);
        assertThat(messages).hasSize(25);
        Map<String, Message> byId = new HashMap<>();
        messages.forEach(message -> byId.put(message.messageId(), message));
        for (int i = 0; i < 25; i++) {
            // the i-th answer is the i-th task's message, its body byte for byte
            Message message = byId.get(reply.get("results").get(i).get("messageId").asText());
            assertThat(message).as("task " + i).isNotNull();
            assertThat(message.body()).isEqualTo(bodies.get(i));
            assertThat(reply.get("results").get(i).get("md5OfBody").asText()).isEqualTo(message.md5OfBody());
            assertThat(message.messageAttributes()).containsOnlyKeys("taskId");
        }
        assertThat(messages).extracting(m -> m.messageAttributes().get("taskId").stringValue()).doesNotHaveDuplicates();
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
        assertThat(BATCH_CALLS.get()).isEqualTo(3);
        assertThat(TaskBatches.chunks(new int[25], 10, 1_048_576)).extracting(List::size).containsExactly(10, 10, 5);
    }

    @Test
    void should_split_a_chunk_of_more_than_1_mib_by_size() throws Exception {
        String fill = "x".repeat(300_000);
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < 5; i++) {
            body.append(i == 0 ? "" : ",").append("{\"action\":\"big\",\"data\":{\"n\":").append(i)
                    .append(",\"fill\":\"").append(fill).append("\"}}");
        }
        HttpResponse<String> response = postJson("/api/tasks", body.append(']').toString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(json(response).get("sent").asInt()).isEqualTo(5);
        List<Message> messages = receiveAll(5);
        assertThat(messages).hasSize(5);
        assertThat(messages).allSatisfy(message -> assertThat(message.body()).hasSizeGreaterThan(300_000));
        // five messages of 300 KB: three fit in 1 MiB, the other two go in a second call
        assertThat(BATCH_CALLS.get()).isEqualTo(2);
        int[] sizes = new int[5];
        java.util.Arrays.fill(sizes, 300_050);
        assertThat(TaskBatches.chunks(sizes, 10, 1_048_576)).extracting(List::size).containsExactly(3, 2);
    }

    @Test
    void should_answer_207_with_the_error_of_the_task_sqs_refused_and_send_the_others() throws Exception {
        // the task SQS refuses: the test's SQS client makes its message larger than SQS takes on the way
        String big = "{\"action\":\"refuse_me\",\"data\":{}}";
        HttpResponse<String> response = postJson("/api/tasks",
                "[{\"action\":\"a\",\"data\":{\"n\":0}}, " + big + ", {\"action\":\"a\",\"data\":{\"n\":2}}]");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(207);
        JsonNode reply = json(response);
        assertThat(reply.get("sent").asInt()).as(response.body()).isEqualTo(2);
        assertThat(reply.get("failed").asInt()).isEqualTo(1);
        assertThat(BATCH_CALLS.get()).as("one call for the three, then one for each alone").isEqualTo(4);
        assertThat(reply.get("results").get(0).has("messageId")).isTrue();
        assertThat(reply.get("results").get(1).get("error").get("code").asText()).isNotBlank();
        assertThat(reply.get("results").get(1).get("error").get("message").asText()).isNotBlank();
        assertThat(reply.get("results").get(2).has("messageId")).isTrue();
        assertThat(receiveAll(2)).extracting(Message::body).containsExactlyInAnyOrder(
                "{\"action\":\"a\",\"data\":{\"n\":0}}", "{\"action\":\"a\",\"data\":{\"n\":2}}");
    }

    @Test
    void should_answer_a_retry_with_the_same_key_from_the_first_answer_and_send_nothing_twice() throws Exception {
        String batch = "[{\"action\":\"a\",\"data\":{\"n\":1}}, {\"action\":\"a\",\"data\":{\"n\":2}}]";
        HttpResponse<String> first = postWithKey(batch, "batch-key-1");
        HttpResponse<String> retry = postWithKey(batch, "batch-key-1");
        HttpResponse<String> other = postWithKey("[{\"action\":\"a\",\"data\":{\"n\":3}}]", "batch-key-1");

        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
        assertThat(json(retry)).isEqualTo(json(first));
        assertThat(other.statusCode()).isEqualTo(409);
        List<Message> messages = receiveAll(2);
        assertThat(messages).hasSize(2);
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
        // each task's id: the key's hash and its index
        assertThat(messages).extracting(m -> m.messageAttributes().get("taskId").stringValue())
                .allSatisfy(id -> assertThat(id).matches("[0-9a-f]{64}-[01]"));
    }

    @Test
    void should_keep_every_task_in_mongodb_while_sqs_is_unavailable() throws Exception {
        sqsCut.cut();
        HttpResponse<String> response = postJson("/api/tasks",
                "[{\"action\":\"a\",\"data\":{\"n\":1}}, {\"action\":\"a\",\"data\":{\"n\":2}}]");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode reply = json(response);
        assertThat(reply.get("kept").asInt()).isEqualTo(2);
        for (int i = 0; i < 2; i++) {
            JsonNode result = reply.get("results").get(i);
            assertThat(result.get("fallback").asBoolean()).isTrue();
            Document kept = mongo.getDatabase(database).getCollection("send_task_fallback")
                    .find(new Document("_id", new ObjectId(result.get("fallbackId").asText()))).first();
            assertThat(kept).isNotNull();
            assertThat(kept.getString("body")).isEqualTo("{\"action\":\"a\",\"data\":{\"n\":" + (i + 1) + "}}");
            assertThat(kept.getString("queueUrl")).isEqualTo(queueUrl);
            assertThat(kept.getString("reason")).startsWith("SQS was unavailable");
        }
        // nothing reached the queue (read while the service's SQS is still cut: the redrive could send them after)
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
        // and nothing will: the redrive would send the kept tasks once SQS is back, into the queue the next test reads
        mongo.getDatabase(database).getCollection("send_task_fallback").deleteMany(new Document("_id",
                new Document("$in", List.of(new ObjectId(reply.get("results").get(0).get("fallbackId").asText()),
                        new ObjectId(reply.get("results").get(1).get("fallbackId").asText())))));
    }

    @Test
    void should_answer_400_naming_the_index_and_send_nothing_for_an_invalid_task_or_an_empty_array() throws Exception {
        HttpResponse<String> invalid = postJson("/api/tasks",
                "[{\"action\":\"a\",\"data\":{}}, {\"action\":\"a\",\"data\":[1]}, {\"data\":{}}]");
        HttpResponse<String> empty = postJson("/api/tasks", "[]");
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < 31; i++) {
            many.append(i == 0 ? "" : ",").append("{\"action\":\"a\",\"data\":{}}");
        }
        HttpResponse<String> tooMany = postJson("/api/tasks", many.append(']').toString());

        assertThat(invalid.statusCode()).isEqualTo(400);
        JsonNode problem = json(invalid);
        assertThat(problem.get("errors").findValuesAsText("index")).containsExactly("1", "2");
        assertThat(problem.get("errors").findValuesAsText("field")).containsExactly("data", "action");
        assertThat(problem.get("detail").asText()).contains("task 1 data").contains("Nothing was sent");
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(json(empty).get("detail").asText()).contains("empty");
        assertThat(tooMany.statusCode()).isEqualTo(413);
        assertThat(json(tooMany).get("detail").asText()).contains("31 tasks").contains("portal.tasks.max-batch");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_take_a_list_of_tasks_from_a_java_caller_of_direct_task() {
        Map<?, ?> reply = service.producer().requestBody("direct:task", List.of(
                Map.of("action", "book_ride", "data", Map.of("user_id", 1)),
                Map.of("action", "book_ride", "data", Map.of("user_id", 2))), Map.class);

        assertThat((List<?>) reply.get("results")).hasSize(2);
        assertThat(receiveAll(2)).extracting(Message::body).containsExactlyInAnyOrder(
                "{\"action\":\"book_ride\",\"data\":{\"user_id\":1}}", "{\"action\":\"book_ride\",\"data\":{\"user_id\":2}}");
    }

    @Test
    void should_count_each_task_of_an_array_in_the_metrics_sent_kept_and_each_batch_call() throws Exception {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < 12; i++) {
            body.append(i == 0 ? "" : ",").append("{\"action\":\"counted\",\"data\":{\"n\":").append(i).append("}}");
        }
        String before = metrics();
        assertThat(postJson("/api/tasks", body + "]").statusCode()).isEqualTo(200);
        String sent = await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(this::metrics,
                after -> delta(before, after, "portal_tasks_sent_total") >= 12);
        assertThat(delta(before, sent, "portal_tasks_sent_total")).isEqualTo(12);
        assertThat(delta(before, sent, "portal_sqs_calls_seconds_count{outcome=\"ok\"}")).isEqualTo(2);
        assertThat(delta(before, sent, "portal_tasks_kept_total")).isZero();

        sqsCut.cut();
        assertThat(postJson("/api/tasks", body + "]").statusCode()).isEqualTo(200);
        // the twelve kept are not redriven once SQS is back, into the queue the next test reads
        assertThat(mongo.getDatabase(database).getCollection("send_task_fallback")
                .deleteMany(Filters.regex("body", "\"action\":\"counted\"")).getDeletedCount()).isEqualTo(12);
        sqsCut.restore();
        String kept = await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(this::metrics,
                after -> delta(sent, after, "portal_tasks_kept_total") >= 12);
        assertThat(delta(sent, kept, "portal_tasks_kept_total")).isEqualTo(12);
        assertThat(delta(sent, kept, "portal_tasks_sent_total")).isZero();
        // the first call found SQS unavailable; the second chunk was kept without another call
        assertThat(delta(sent, kept, "portal_sqs_calls_seconds_count{outcome=\"error\"}")).isEqualTo(1);
        // the twelve kept in one insert
        assertThat(delta(sent, kept, "portal_mongodb_calls_seconds_count{outcome=\"ok\"}")).isEqualTo(1);
        receiveAll(12);
    }

    private String metrics() throws Exception {
        HttpResponse<String> response = send(service.request("/observe/metrics").GET());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private static double delta(String before, String after, String series) {
        return value(after, series) - value(before, series);
    }

    private static double value(String metrics, String series) {
        Matcher line = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        return line.find() ? Double.parseDouble(line.group(1)) : 0;
    }

    /** The SendMessageBatch calls of the service, made with this client as a host application's own. */
    static final AtomicInteger BATCH_CALLS = new AtomicInteger();
    /** The entries of each SendMessageBatch call, as the service made them (bodies, in order). */
    static final List<List<String>> BATCH_ENTRIES = new CopyOnWriteArrayList<>();
    /** The bodies SQS already failed once on its side (sqs_side_fault_once). */
    private static final Set<String> FAULTED_ONCE = ConcurrentHashMap.newKeySet();
    /** The ids of the entries of a call that SQS is made to fail on its side. */
    private static final ExecutionAttribute<Set<String>> FAULTED = new ExecutionAttribute<>("test.faulted-entries");

    /**
     * The service's SQS client, as a host application binds its own: counts SendMessageBatch calls, and makes the
     * message of a task whose action is refuse_me larger than SQS takes, so that SQS refuses that entry alone.
     * <p>
     * It also plays SQS failing an entry on its own side, which ElasticMQ never does: an entry whose task holds
     * sqs_side_fault_once (the first time it is sent) or sqs_side_fault_always is left out of the call and answered as
     * a failed entry with SenderFault=false, code InternalError, as SQS answers when it could not store a message
     * (a call whose every entry fails so goes to another queue, as SQS takes no empty batch).
     */
    public static class CountingSqsClient implements CamelConfiguration {
        @Override
        public void configure(CamelContext context) {
            PropertiesComponent properties = context.getPropertiesComponent();
            String faultSink = SharedEmulators.get().createQueue("batch-fault-sink");
            context.getRegistry().bind("testSqsClient", EmbeddedEmulators.sqsClientBuilder(
                    properties.resolveProperty("portal.sqs.endpoint").orElseThrow())
                    .overrideConfiguration(o -> o.addExecutionInterceptor(new ExecutionInterceptor() {
                        @Override
                        public SdkRequest modifyRequest(Context.ModifyRequest request, ExecutionAttributes attributes) {
                            if (!(request.request() instanceof SendMessageBatchRequest batch)) {
                                return request.request();
                            }
                            BATCH_CALLS.incrementAndGet();
                            BATCH_ENTRIES.add(batch.entries().stream()
                                    .map(SendMessageBatchRequestEntry::messageBody).toList());
                            Set<String> faulted = new HashSet<>();
                            List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
                            for (SendMessageBatchRequestEntry entry : batch.entries()) {
                                String body = entry.messageBody();
                                if (body.contains("sqs_side_fault_always")
                                    || body.contains("sqs_side_fault_once") && FAULTED_ONCE.add(body)) {
                                    faulted.add(entry.id());
                                } else {
                                    entries.add(body.contains("refuse_me")
                                            ? entry.toBuilder().messageBody("z".repeat(1_048_577)).build() : entry);
                                }
                            }
                            if (faulted.isEmpty()) {
                                return batch.toBuilder().entries(entries).build();
                            }
                            attributes.putAttribute(FAULTED, faulted);
                            return entries.isEmpty() ? batch.toBuilder().queueUrl(faultSink).build()
                                    : batch.toBuilder().entries(entries).build();
                        }

                        @Override
                        public SdkResponse modifyResponse(Context.ModifyResponse response,
                                                          ExecutionAttributes attributes) {
                            Set<String> faulted = attributes.getAttribute(FAULTED);
                            if (faulted == null || !(response.response() instanceof SendMessageBatchResponse sent)) {
                                return response.response();
                            }
                            List<BatchResultErrorEntry> failed = new ArrayList<>(sent.failed());
                            faulted.forEach(id -> failed.add(BatchResultErrorEntry.builder().id(id).senderFault(false)
                                    .code("InternalError").message("the test's SQS failed this entry").build()));
                            return sent.toBuilder().failed(failed)
                                    .successful(sent.successful().stream()
                                            .filter(entry -> !faulted.contains(entry.id())).toList())
                                    .build();
                        }
                    }))
                    .build());
        }
    }

    private HttpResponse<String> postWithKey(String body, String key) throws Exception {
        return send(service.request("/api/tasks").header("Content-Type", "application/json")
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(body)));
    }
}
