package com.metropia.portal.messaging.tasks;

import com.metropia.portal.messaging.InvalidRequestException;
import com.metropia.portal.messaging.PayloadTooLargeException;
import com.metropia.portal.messaging.TaskNotQueuedException;
import com.metropia.portal.messaging.TaskRefusedException;
import com.metropia.portal.messaging.events.IncentiveEvents;
import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.support.PortalJson;
import com.metropia.portal.messaging.support.RegistryClients;
import com.metropia.portal.messaging.support.SchemaErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * A JSON array of tasks (or a {@code List} from Java) sent with SQS {@code SendMessageBatch}: in chunks of at most 10
 * entries and 1 MiB, each entry's failure answered on its own. camel-aws2-sqs 4.17's {@code sendBatchMessage} sends
 * the whole body in one request (no chunking), gives every entry the same attributes and FIFO ids, and reports entries
 * that failed only as a count: this calls the SDK with the {@link SqsClient} the routes use, so endpoint, credentials
 * and retries of whole calls are the same.
 * <p>
 * Every task is checked before anything is sent (an invalid one: 400 naming its index). An entry SQS did not take for a
 * reason of its own side (SenderFault=false) is sent again, alone with the others that failed so, up to
 * {@code portal.sqs.max-attempts} times; one still not taken, and every entry of a call that found SQS unavailable (and
 * of the chunks after it), is kept in the fallback collection like a single task. An entry SQS refuses (SenderFault=true)
 * is answered with SQS's code and message.
 */
public class TaskBatches {

    private static final Logger LOG = LoggerFactory.getLogger(TaskBatches.class);

    /** The reply's per-entry answers, in request order. */
    public static final String RESULTS = "results";
    /** Exchange property: what the batch did ({@link Outcome}), for the metrics. */
    public static final String OUTCOME = "portalTaskBatchOutcome";
    /** Exchange property: the SQS message bodies of the batch, in request order. */
    private static final String MESSAGES = "portalTaskBatchMessages";
    /** Exchange property: the task id of each entry. */
    private static final String TASK_IDS = "portalTaskBatchIds";

    /** SendMessageBatch takes at most 10 entries. */
    public static final int SQS_MAX_ENTRIES = 10;
    /** ... and at most 1 MiB of messages and attributes in all. */
    public static final int SQS_MAX_BATCH_BYTES = 1_048_576;

    /** The schema of one task, on the class path. */
    public static final String TASK_SCHEMA = "portal-messaging/schemas/task.schema.json";

    /** What a batch did: how many entries SQS took, were kept or failed, and each SendMessageBatch call. */
    public static final class Outcome {
        private int sent;
        private int kept;
        private int failed;
        private final List<long[]> calls = new ArrayList<>();
        private final List<long[]> keeps = new ArrayList<>();

        public int sent() {
            return sent;
        }

        public int kept() {
            return kept;
        }

        public int failed() {
            return failed;
        }

        /** Each call: {nanoseconds, 1 when SQS answered, 0 when it failed}. */
        public List<long[]> calls() {
            return calls;
        }

        /** Each insert of kept tasks into the fallback collection: {nanoseconds, 1 when MongoDB took them, else 0}. */
        public List<long[]> keeps() {
            return keeps;
        }
    }

    private final ObjectMapper mapper;
    private final PortalJson json;
    private final PortalTasks tasks;
    private final TaskFallback fallback;
    private final TaskKeys keys;
    private final int maxEntries;
    private final int maxAttempts;
    private final Duration retryDelay;
    private final JsonSchema taskSchema;

    public TaskBatches(ObjectMapper mapper, PortalJson json, PortalTasks tasks, TaskFallback fallback, TaskKeys keys,
                       int maxEntries, int maxAttempts, Duration retryDelay) {
        this.mapper = mapper;
        this.json = json;
        this.tasks = tasks;
        this.fallback = fallback;
        this.keys = keys;
        this.maxEntries = maxEntries;
        this.maxAttempts = maxAttempts;
        this.retryDelay = retryDelay;
        try (InputStream schema = TaskBatches.class.getClassLoader().getResourceAsStream(TASK_SCHEMA)) {
            if (schema == null) {
                throw new IllegalStateException("The task schema " + TASK_SCHEMA + " is not on the class path");
            }
            this.taskSchema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                    .getSchema(mapper.readTree(schema));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Checks every task and builds its SQS message body. The exchange's body becomes the JSON array of the message
     * bodies (what an Idempotency-Key's request is compared by). Nothing is sent when any task is wrong: 400 naming
     * each index and field, or 413 for an empty-of-room batch (more tasks than {@code portal.tasks.max-batch}, or a
     * task larger than an SQS message).
     */
    public String toMessages(Exchange exchange) throws IOException {
        JsonNode batch = json.read(exchange);
        if (!batch.isArray()) {
            throw PortalJson.invalidBody("A batch of tasks is a JSON array of {\"action\": \"...\", \"data\": {...}}"
                                         + " objects, not " + PortalJson.kindOf(batch));
        }
        if (batch.isEmpty()) {
            throw PortalJson.invalidBody("The array of tasks is empty: send at least one task");
        }
        if (batch.size() > maxEntries) {
            throw new PayloadTooLargeException("The request holds " + batch.size() + " tasks; at most " + maxEntries
                                               + " are taken in one request (portal.tasks.max-batch)");
        }
        List<Map<String, Object>> errors = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            for (ValidationMessage message : taskSchema.validate(batch.get(i))) {
                errors.add(error(i, message));
            }
        }
        if (!errors.isEmpty()) {
            errors.sort(Comparator.comparing((Map<String, Object> e) -> (Integer) e.get("index"))
                    .thenComparing(e -> String.valueOf(e.get("field"))));
            StringBuilder summary = new StringBuilder();
            for (Map<String, Object> e : errors) {
                summary.append(summary.isEmpty() ? "" : "; ").append("task ").append(e.get("index")).append(' ')
                        .append(e.get("field")).append(": ").append(e.get("message"));
            }
            throw new InvalidRequestException("The request does not match its schema: " + summary
                                              + ". Nothing was sent", errors);
        }
        List<String> messages = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            try {
                messages.add(tasks.toMessageBody(batch.get(i)));
            } catch (PayloadTooLargeException e) {
                throw new PayloadTooLargeException("Task " + i + ": " + e.getMessage() + ". Nothing was sent");
            } catch (InvalidRequestException e) {
                String message = "Task " + i + ": " + e.getMessage() + ". Nothing was sent";
                throw new InvalidRequestException(message, List.of(Map.of("index", i, "field", "(task)",
                        "message", e.getMessage())));
            }
        }
        exchange.setProperty(MESSAGES, messages);
        return "[" + String.join(",", messages) + "]";
    }

    private static Map<String, Object> error(int index, ValidationMessage message) {
        String field = SchemaErrors.field("", message, 0);
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("index", index);
        error.put("field", field.isEmpty() ? "(task)" : field);
        error.put("message", SchemaErrors.plain(message));
        return error;
    }

    /**
     * Gives each task its id, the message attribute {@code taskId} and, on a FIFO queue, its deduplication id: with an
     * Idempotency-Key, the key's hash and the task's index ({@code <hash>-<index>}), the same on a retry; else a new UUID.
     */
    public void assignTaskIds(Exchange exchange) {
        String key = exchange.getProperty(TaskKeys.KEY, String.class);
        int count = messages(exchange).size();
        List<String> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(key != null ? key + "-" + i : UUID.randomUUID().toString());
        }
        exchange.setProperty(TASK_IDS, ids);
    }

    /**
     * Sends the batch and answers {@code {"results": [...], "sent": n, "kept": n, "failed": n}}, one result per task in
     * request order: {@code {"messageId", "md5OfBody", "sequenceNumber"?}}, {@code {"fallback": true, "fallbackId"}},
     * or {@code {"error": {"code", "message"}}}. When no task was queued or kept at all, the key is freed and the
     * request fails as a single task would: 502 when SQS refuses the service's settings, 503 otherwise.
     */
    public Map<String, Object> send(Exchange exchange, String queue, String queueUrl, String messageGroupId,
                                    String database, String collection) {
        CamelContext context = exchange.getContext();
        List<String> messages = messages(exchange);
        @SuppressWarnings("unchecked")
        List<String> ids = exchange.getProperty(TASK_IDS, List.class);
        String url = fallback.resolveQueueUrl(context, queue, queueUrl);
        boolean fifo = (url != null ? url : queue).endsWith(".fifo");
        SqsClient sqs = RegistryClients.sqs(context);
        Outcome outcome = new Outcome();
        exchange.setProperty(OUTCOME, outcome);
        Object[] results = new Object[messages.size()];
        // why each entry SQS did not take is kept: the call's failure, or the entry's own (SenderFault=false)
        Throwable[] reasons = new Throwable[messages.size()];
        List<Integer> toKeep = new ArrayList<>();
        SdkException unavailable = null;
        SdkException refused = null;
        for (List<Integer> chunk : chunks(sizes(messages, ids), SQS_MAX_ENTRIES, SQS_MAX_BATCH_BYTES)) {
            if (refused != null) {
                for (int i : chunk) {
                    results[i] = failure("NotAttempted", "not sent: SQS refused an earlier part of the batch ("
                                                         + SqsErrors.describe(refused) + ")");
                }
                continue;
            }
            if (unavailable != null) {
                // SQS was unavailable for an earlier chunk, after its retries: not waited for again
                for (int i : chunk) {
                    reasons[i] = unavailable;
                }
                toKeep.addAll(chunk);
                continue;
            }
            Batch batch = new Batch(sqs, url, messages, ids, fifo, messageGroupId, results, reasons, outcome);
            toKeep.addAll(batch.send(chunk));
            unavailable = batch.unavailable;
            refused = batch.refused;
        }
        if (outcome.sent > 0) {
            fallback.acknowledgedFor(context, queue, queueUrl);
        }
        keep(exchange, toKeep, results, reasons, queue, queueUrl, messageGroupId, database, collection, outcome);
        List<Object> answers = new ArrayList<>(results.length);
        for (Object result : results) {
            if (!(result instanceof Map<?, ?>)) {
                throw new IllegalStateException("A task of the batch has no result");
            }
            answers.add(result);
        }
        outcome.failed = results.length - outcome.sent - outcome.kept;
        // Nothing queued or kept because of SQS's settings or an outage: the request fails as a whole, and its key is
        // freed so that a retry sends it all. (Tasks SQS refused one by one are answered: a retry cannot help them.)
        if (outcome.sent == 0 && outcome.kept == 0 && refused != null) {
            keys.free(exchange);
            LOG.error("SQS refused a batch of tasks because of the service's SQS settings; nothing was queued or"
                      + " kept: {}", SqsErrors.describe(refused));
            throw new TaskRefusedException("The tasks were not queued: SQS refused them because of this service's SQS"
                                           + " configuration (" + SqsErrors.describe(refused) + "). Nothing was"
                                           + " queued or kept; a retry fails the same way until the configuration"
                                           + " is fixed");
        }
        if (outcome.sent == 0 && outcome.kept == 0 && !toKeep.isEmpty()) {
            keys.free(exchange);
            throw new TaskNotQueuedException("The tasks were not queued: SQS did not accept them ("
                                             + SqsErrors.describe(reasons[toKeep.get(0)]) + ") and MongoDB did not"
                                             + " keep them for later", null);
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put(RESULTS, answers);
        reply.put("sent", outcome.sent);
        reply.put("kept", outcome.kept);
        reply.put("failed", outcome.failed);
        return reply;
    }

    /** One chunk's SendMessageBatch calls, and what they found. */
    private final class Batch {
        private final SqsClient sqs;
        private final String url;
        private final List<String> messages;
        private final List<String> ids;
        private final boolean fifo;
        private final String messageGroupId;
        private final Object[] results;
        private final Throwable[] reasons;
        private final Outcome outcome;
        private SdkException unavailable;
        private SdkException refused;

        Batch(SqsClient sqs, String url, List<String> messages, List<String> ids, boolean fifo, String messageGroupId,
              Object[] results, Throwable[] reasons, Outcome outcome) {
            this.sqs = sqs;
            this.url = url;
            this.messages = messages;
            this.ids = ids;
            this.fifo = fifo;
            this.messageGroupId = messageGroupId;
            this.results = results;
            this.reasons = reasons;
            this.outcome = outcome;
        }

        /** Sends the entries; answers those SQS did not take for a reason on its side, to be kept. */
        List<Integer> send(List<Integer> chunk) {
            List<Integer> pending = chunk;
            for (int attempt = 1; !pending.isEmpty() && attempt <= maxAttempts; attempt++) {
                if (attempt > 1) {
                    pause(attempt);
                }
                List<SendMessageBatchRequestEntry> entries = entries(pending, messages, ids, fifo, messageGroupId);
                SendMessageBatchResponse response;
                long start = System.nanoTime();
                try {
                    response = sqs.sendMessageBatch(request -> request.queueUrl(url).entries(entries));
                    outcome.calls.add(new long[] {System.nanoTime() - start, 1});
                } catch (SdkException e) {
                    outcome.calls.add(new long[] {System.nanoTime() - start, 0});
                    return refusedCall(pending, e);
                }
                for (SendMessageBatchResultEntry sent : response.successful()) {
                    Map<String, Object> result = new LinkedHashMap<>();
                    result.put("messageId", sent.messageId());
                    result.put("md5OfBody", sent.md5OfMessageBody());
                    if (sent.sequenceNumber() != null) {
                        result.put("sequenceNumber", sent.sequenceNumber());
                    }
                    results[Integer.parseInt(sent.id())] = result;
                    outcome.sent++;
                }
                List<Integer> retry = new ArrayList<>();
                for (BatchResultErrorEntry failed : response.failed()) {
                    int i = Integer.parseInt(failed.id());
                    if (Boolean.TRUE.equals(failed.senderFault())) {
                        // SQS refuses this entry as it is (its text, its size): sending it again cannot help
                        results[i] = failure(failed.code(), failed.message());
                    } else {
                        retry.add(i);
                        reasons[i] = entryFailure(failed);
                    }
                }
                pending = retry;
            }
            return pending;
        }

        /**
         * The whole call failed. SQS unavailable (after the SDK's retries): the entries are kept. SQS refusing the
         * service's settings: they fail, and so does the rest of the batch. SQS refusing the request for what an
         * entry holds (one message too long makes the whole request too long): each entry is sent alone, so that
         * only the one SQS refuses fails.
         */
        private List<Integer> refusedCall(List<Integer> pending, SdkException e) {
            SqsErrors.Kind kind = SqsErrors.kindOf(e);
            if (kind == SqsErrors.Kind.OUTAGE) {
                unavailable = e;
                for (int i : pending) {
                    reasons[i] = e;
                }
                return pending;
            }
            if (kind == SqsErrors.Kind.MESSAGE_REFUSED && pending.size() > 1) {
                List<Integer> toKeep = new ArrayList<>();
                for (int i : pending) {
                    if (unavailable != null) {
                        reasons[i] = unavailable;
                        toKeep.add(i);
                    } else if (refused == null) {
                        toKeep.addAll(send(List.of(i)));
                    } else {
                        results[i] = failure("NotAttempted", "not sent: SQS refused an earlier part of the batch ("
                                                             + SqsErrors.describe(refused) + ")");
                    }
                }
                return toKeep;
            }
            if (kind == SqsErrors.Kind.QUEUE_REFUSED) {
                refused = e;
            }
            for (int i : pending) {
                results[i] = failure(code(e), SqsErrors.describe(e));
            }
            return List.of();
        }
    }

    /** Keeps the entries SQS did not take in the fallback collection, in one insert; a failure fails only them. */
    private void keep(Exchange exchange, List<Integer> toKeep, Object[] results, Throwable[] reasons, String queue,
                      String queueUrl, String messageGroupId, String database, String collection, Outcome outcome) {
        if (toKeep.isEmpty()) {
            return;
        }
        List<String> messages = messages(exchange);
        @SuppressWarnings("unchecked")
        List<String> ids = exchange.getProperty(TASK_IDS, List.class);
        Object requestId = exchange.getProperty(IncentiveEvents.REQUEST_ID);
        List<Document> documents = new ArrayList<>(toKeep.size());
        for (int i : toKeep) {
            // no Idempotency-Key on the document: the batch's answer is recorded under the key, not one message id
            documents.add(fallback.document(exchange.getContext(), messages.get(i), queue, queueUrl, messageGroupId,
                    ids.get(i), null, requestId, reasons[i]));
        }
        long start = System.nanoTime();
        try {
            Idempotency.collection(exchange.getContext(), database, collection).insertMany(documents);
            outcome.keeps.add(new long[] {System.nanoTime() - start, 1});
        } catch (RuntimeException e) {
            outcome.keeps.add(new long[] {System.nanoTime() - start, 0});
            LOG.warn("SQS did not take {} task(s) of a batch, and MongoDB did not keep them: {}", toKeep.size(),
                    SqsErrors.describe(e));
            for (int i : toKeep) {
                results[i] = failure("NotQueued", "not queued: SQS did not accept the task ("
                                                  + SqsErrors.describe(reasons[i])
                                                  + ") and MongoDB did not keep it for later");
            }
            return;
        }
        for (int n = 0; n < toKeep.size(); n++) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("fallback", true);
            result.put("fallbackId", documents.get(n).getObjectId("_id").toHexString());
            results[toKeep.get(n)] = result;
            outcome.kept++;
        }
    }

    private static List<SendMessageBatchRequestEntry> entries(List<Integer> indexes, List<String> messages,
                                                              List<String> ids, boolean fifo, String messageGroupId) {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>(indexes.size());
        for (int i : indexes) {
            SendMessageBatchRequestEntry.Builder entry = SendMessageBatchRequestEntry.builder()
                    .id(String.valueOf(i))
                    .messageBody(messages.get(i))
                    .messageAttributes(Map.of("taskId", MessageAttributeValue.builder().dataType("String")
                            .stringValue(ids.get(i)).build()));
            if (fifo) {
                entry.messageGroupId(messageGroupId).messageDeduplicationId(ids.get(i));
            }
            entries.add(entry.build());
        }
        return entries;
    }

    /** What each entry counts against the batch's 1 MiB: its body and its attribute (name, type and value). */
    private static int[] sizes(List<String> messages, List<String> ids) {
        int[] sizes = new int[messages.size()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = messages.get(i).getBytes(StandardCharsets.UTF_8).length + "taskId".length() + "String".length()
                       + ids.get(i).getBytes(StandardCharsets.UTF_8).length;
        }
        return sizes;
    }

    /**
     * The entries in request order, cut into chunks of at most {@code maxEntries} entries and {@code maxBytes} bytes
     * (an entry alone larger than that is a chunk of its own, for SQS to answer).
     */
    public static List<List<Integer>> chunks(int[] sizes, int maxEntries, int maxBytes) {
        List<List<Integer>> chunks = new ArrayList<>();
        List<Integer> chunk = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (!chunk.isEmpty() && (chunk.size() == maxEntries || bytes + sizes[i] > maxBytes)) {
                chunks.add(chunk);
                chunk = new ArrayList<>();
                bytes = 0;
            }
            chunk.add(i);
            bytes += sizes[i];
        }
        if (!chunk.isEmpty()) {
            chunks.add(chunk);
        }
        return chunks;
    }

    /** The HTTP status of the answer: 202 for one task; for a batch 200 when every task was sent or kept, else 207. */
    public int httpStatus(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        if (body instanceof Map<?, ?> reply && reply.get(RESULTS) instanceof List<?>) {
            return reply.get("failed") instanceof Number failed && failed.intValue() > 0 ? 207 : 200;
        }
        return 202;
    }

    private void pause(int attempt) {
        long millis = Math.min(retryDelay.toMillis() << Math.min(attempt - 2, 20), 2000);
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Map<String, Object> failure(String code, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("error", error);
        return result;
    }

    /** An entry SQS did not take for a reason on its side, as the error SQS would have thrown for it alone. */
    private static SdkException entryFailure(BatchResultErrorEntry failed) {
        return SqsException.builder().statusCode(500).message(failed.code() + ": " + failed.message())
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(failed.code()).errorMessage(failed.message())
                        .build()).build();
    }

    private static String code(SdkException e) {
        if (e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException service
            && service.awsErrorDetails() != null && service.awsErrorDetails().errorCode() != null) {
            return service.awsErrorDetails().errorCode();
        }
        return e.getClass().getSimpleName();
    }

    @SuppressWarnings("unchecked")
    private static List<String> messages(Exchange exchange) {
        return exchange.getProperty(MESSAGES, List.class);
    }
}
