package com.metropia.portal.messaging.tasks;

import com.metropia.portal.messaging.TaskNotQueuedException;
import com.metropia.portal.messaging.events.IncentiveEvents;
import com.metropia.portal.messaging.http.RequestIds;
import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.support.RegistryClients;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks SQS did not take during an outage: kept in a MongoDB collection ({@code portal.tasks.fallback-collection})
 * until the redrive route moves them to SQS, oldest first, each removed only after SQS acknowledged it. All the state
 * is in MongoDB, so a restart loses nothing, and several instances, templates or deployments can share a collection:
 * each redriver claims only the tasks of its own queue (by queue URL), one at a time, for a while.
 * <p>
 * A fallback document: {@code {_id, body: <the exact SQS message body>, queue, queueUrl, messageGroupId, taskId,
 * deduplicationId, idempotencyKey?, created_at, request_id?, reason, claimedUntil, attempts, nextAttemptAt,
 * lastAttemptAt?, error}}.
 * <p>
 * A task that fails gets its own backoff ({@code nextAttemptAt}), so the tasks behind it keep moving. A failure counts
 * as one of its {@code portal.tasks.redrive-max-attempts} only when SQS took another message of the queue since the
 * task's previous attempt, so that an outage of the whole queue uses up no task's attempts. A task SQS refuses as such
 * (its text, its size), or out of attempts, moves to the dead-letter collection
 * ({@code portal.tasks.dead-letter-collection}): the fallback document plus {@code dead_at} and {@code lastError}.
 */
public class TaskFallback {

    private static final Logger LOG = LoggerFactory.getLogger(TaskFallback.class);

    /** Exchange property: why SQS did not take the task, kept while the task is written to MongoDB instead. */
    public static final String SQS_ERROR = "portalTaskSqsError";
    /** Exchange property: the id of the fallback document being redriven. */
    public static final String FALLBACK_ID = "portalTaskFallbackId";
    /** Exchange property: the fallback document being redriven, as it was before it was claimed. */
    private static final String CLAIMED = "portalTaskFallbackDocument";

    private static final Date NOT_CLAIMED = new Date(0);

    private final Duration claim;
    private final Duration maxBackoff;
    /** Per database.collection: tasks SQS acknowledged whose delete MongoDB has not acknowledged yet. */
    private final Map<String, Set<ObjectId>> sentNotDeleted = new ConcurrentHashMap<>();
    /** The database.collection names whose claim index is made (each redrive may have its own collection). */
    private final Set<String> indexed = ConcurrentHashMap.newKeySet();
    /** Per queue URL: when SQS last acknowledged a task of this process, the sign that the queue takes tasks. */
    private final Map<String, Instant> lastAcknowledged = new ConcurrentHashMap<>();
    /** Per queue name: the URL looked up for a sender or redriver given no queue URL. */
    private final Map<String, String> queueUrls = new ConcurrentHashMap<>();
    /** Per database.collection of dead letters: the tasks this process moved there. */
    private final Map<String, AtomicLong> deadLettered = new ConcurrentHashMap<>();

    public TaskFallback(Duration claim, Duration maxBackoff) {
        this.claim = claim;
        if (maxBackoff.toSeconds() < 1) {
            throw new IllegalStateException("portal.tasks.redrive-max-backoff-seconds must be at least 1, not "
                                            + maxBackoff.toSeconds());
        }
        this.maxBackoff = maxBackoff;
    }

    /** The fallback document of the task whose message body is the exchange's body, for the queue it was meant for. */
    public Document toDocument(Exchange exchange, String queue, String queueUrl, String messageGroupId) {
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        exchange.setProperty(SQS_ERROR, error);
        // the route keeps the caller's X-Request-Id as a property: the headers are gone before SQS is called
        return document(exchange.getContext(), exchange.getMessage().getBody(String.class), queue, queueUrl,
                messageGroupId, exchange.getProperty(PortalTasks.TASK_ID, String.class),
                exchange.getProperty(TaskKeys.KEY, String.class), exchange.getProperty(IncentiveEvents.REQUEST_ID),
                error);
    }

    /**
     * The fallback document of one task: its exact SQS message body, the queue it was meant for, its ids, and why SQS
     * did not take it. With an Idempotency-Key hash, the redrive records the message id under that key.
     */
    public Document document(CamelContext context, String body, String queue, String queueUrl, String messageGroupId,
                             String taskId, String key, Object requestId, Throwable error) {
        Document document = new Document("_id", new ObjectId())
                .append("body", body)
                .append("queue", queue)
                .append("queueUrl", resolveQueueUrl(context, queue, queueUrl))
                .append("messageGroupId", messageGroupId)
                .append("taskId", taskId)
                // on a FIFO queue, SQS drops a second copy sent within 5 minutes (a redrive that stopped after the send)
                .append("deduplicationId", taskId);
        if (key != null) {
            document.append("idempotencyKey", key);
        }
        document.append("created_at", new Date());
        if (requestId != null) {
            document.append(IncentiveEvents.REQUEST_ID_FIELD, RequestIds.accept(requestId.toString()));
        }
        return document
                .append("reason", SqsErrors.reason(error))
                .append("claimedUntil", NOT_CLAIMED)
                .append("attempts", 0)
                .append("nextAttemptAt", NOT_CLAIMED)
                .append("error", SqsErrors.describe(error));
    }

    /** The caller's answer: accepted, kept in MongoDB, on its way to SQS. */
    public Map<String, Object> reply(Exchange exchange) {
        Document document = exchange.getMessage().getBody(Document.class);
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("fallback", true);
        reply.put("fallbackId", document.getObjectId("_id").toHexString());
        return reply;
    }

    /** Neither SQS nor the fallback collection took the task: nothing is queued or kept, and the caller may retry. */
    public void notKept(Exchange exchange) {
        Exception sqs = exchange.getProperty(SQS_ERROR, Exception.class);
        Exception mongo = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        throw new TaskNotQueuedException("The task was not queued: SQS did not accept it (" + message(sqs)
                                         + ") and MongoDB did not keep it for later (" + message(mongo) + ")", mongo);
    }

    /** SQS took a task of the sender: the queue works, so a redriven task that fails there fails on its own. */
    public void acknowledged(Exchange exchange, String queue, String queueUrl) {
        acknowledgedFor(exchange.getContext(), queue, queueUrl);
    }

    /** SQS took a task for the queue (of the sender or the batch sender). */
    public void acknowledgedFor(CamelContext context, String queue, String queueUrl) {
        String url = resolveQueueUrl(context, queue, queueUrl);
        if (url != null) {
            lastAcknowledged.put(url, Instant.now());
        }
    }

    /**
     * Claims the oldest task of the queue that nobody else is sending and whose backoff is over, for
     * {@code portal.tasks.redrive-claim-seconds}, and makes it the message to send (the body is null when there is
     * none). A task is the queue's when it was kept for this queue URL; one kept before the URL was recorded, when it
     * was kept for a queue of this name.
     */
    public void claimNext(Exchange exchange, String database, String collection, String queue, String queueUrl) {
        MongoCollection<Document> fallback = collection(exchange, database, collection);
        deleteSent(fallback, toDelete(database, collection));
        String url = resolveQueueUrl(exchange.getContext(), queue, queueUrl);
        Bson ofThisQueue = Filters.and(Filters.exists("queueUrl", false), Filters.eq("queue", queue));
        if (url != null) {
            ofThisQueue = Filters.or(Filters.eq("queueUrl", url), ofThisQueue);
        }
        Date now = new Date();
        Document task = fallback.findOneAndUpdate(
                Filters.and(ofThisQueue, Filters.lte("claimedUntil", now),
                        Filters.or(Filters.exists("nextAttemptAt", false), Filters.lte("nextAttemptAt", now))),
                Updates.combine(Updates.set("claimedUntil", Date.from(now.toInstant().plus(claim))),
                        Updates.set("lastAttemptAt", now)),
                new FindOneAndUpdateOptions().sort(Sorts.ascending("created_at", "_id"))
                        .returnDocument(ReturnDocument.BEFORE));
        if (task == null) {
            exchange.getMessage().setBody(null);
            return;
        }
        if (!indexed.contains(database + "." + collection)) {
            // only once there is something to redrive: a service whose SQS never failed creates no collection
            fallback.createIndex(Indexes.ascending("claimedUntil", "created_at"));
            indexed.add(database + "." + collection);
        }
        ObjectId id = task.getObjectId("_id");
        String taskId = firstOf(task.getString("taskId"), task.getString("deduplicationId"), id.toHexString());
        exchange.setProperty(FALLBACK_ID, id);
        exchange.setProperty(CLAIMED, task);
        exchange.setProperty(TaskKeys.KEY, task.getString("idempotencyKey"));
        exchange.setProperty(PortalTasks.TASK_ID, taskId);
        exchange.setProperty("CamelAwsMessageGroupId", task.getString("messageGroupId"));
        exchange.getMessage().setBody(task.getString("body"));
    }

    /** SQS acknowledged the claimed task: it leaves the fallback collection. */
    public void redriven(Exchange exchange, String database, String collection, String queue, String queueUrl) {
        ObjectId id = exchange.getProperty(FALLBACK_ID, ObjectId.class);
        // sent: from here on the task is never handed back, even if MongoDB is gone before it is deleted
        exchange.removeProperty(FALLBACK_ID);
        exchange.removeProperty(CLAIMED);
        acknowledged(exchange, queue, queueUrl);
        toDelete(database, collection).add(id);
        LOG.info("Task {} moved from {} to SQS as message {}", id, collection,
                exchange.getMessage().getHeader(Sqs2Constants.MESSAGE_ID, String.class));
        deleteSent(collection(exchange, database, collection), toDelete(database, collection));
    }

    /**
     * SQS did not take the claimed task. A message SQS refuses as such goes to the dead-letter collection and the pass
     * goes on with the next task. Any other failure ends the pass and gives the task its backoff, so the next pass
     * starts with the task behind it; SQS refusing the service's settings is logged at ERROR. The failure uses up one of
     * the task's attempts (the last one sends it to the dead letters) only when the queue took another task since the
     * task's previous attempt: then the fault is the task's, not the queue's. So a queue that is down or refused for
     * all uses up nobody's attempts, and a task whose refusal looked like the queue's is still bounded.
     */
    public void failed(Exchange exchange, String database, String collection, String deadLetterCollection,
                       String queue, String queueUrl, int maxAttempts, long periodMillis) {
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        ObjectId id = exchange.getProperty(FALLBACK_ID, ObjectId.class);
        Document task = exchange.getProperty(CLAIMED, Document.class);
        if (maxAttempts < 1) {
            throw new IllegalStateException("portal.tasks.redrive-max-attempts must be at least 1, not " + maxAttempts);
        }
        SqsErrors.Kind kind = SqsErrors.kindOf(error);
        MongoCollection<Document> fallback = collection(exchange, database, collection);
        if (kind == SqsErrors.Kind.MESSAGE_REFUSED) {
            deadLetter(exchange, fallback, deadLetterCollection, task, attemptsOf(task) + 1, error);
            claimNext(exchange, database, collection, queue, queueUrl);
            return;
        }
        // Did the queue take another task since this one's previous attempt? Then the failure is this task's own.
        Instant previous = firstOf(task.getDate("lastAttemptAt"), task.getDate("created_at"), new Date(0)).toInstant();
        String url = resolveQueueUrl(exchange.getContext(), queue, queueUrl);
        Instant tookOthers = url == null ? null : lastAcknowledged.get(url);
        int attempts = attemptsOf(task) + (tookOthers != null && tookOthers.isAfter(previous) ? 1 : 0);
        if (attempts >= maxAttempts) {
            deadLetter(exchange, fallback, deadLetterCollection, task, attempts, error);
        } else {
            Duration backoff = backoff(periodMillis, attempts);
            fallback.updateOne(Filters.eq("_id", id), Updates.combine(Updates.set("claimedUntil", NOT_CLAIMED),
                    Updates.set("attempts", attempts),
                    Updates.set("nextAttemptAt", Date.from(Instant.now().plus(backoff))),
                    Updates.set("error", SqsErrors.describe(error))));
            if (kind == SqsErrors.Kind.QUEUE_REFUSED) {
                LOG.error("Redrive of {} stopped: SQS refuses the tasks of queue {} because of the service's SQS"
                          + " settings ({}); they stay kept, and none uses up an attempt while the queue takes no"
                          + " task", collection, queue, SqsErrors.describe(error));
            } else {
                LOG.warn("Redrive of {} stopped at task {} ({} of {} attempts used, next in {} ms): {}", collection,
                        id, attempts, maxAttempts, backoff.toMillis(), SqsErrors.describe(error));
            }
        }
        exchange.removeProperty(FALLBACK_ID);
        exchange.removeProperty(CLAIMED);
        exchange.getMessage().setBody(null);
    }

    /** Exponential from the redrive period, doubled with each attempt used up, at most portal.tasks.redrive-max-backoff-seconds. */
    private Duration backoff(long periodMillis, int attempts) {
        long millis = Math.max(1, periodMillis) << Math.min(attempts, 30);
        return millis <= 0 || millis > maxBackoff.toMillis() ? maxBackoff : Duration.ofMillis(millis);
    }

    private void deadLetter(Exchange exchange, MongoCollection<Document> fallback, String deadLetterCollection,
                            Document task, int attempts, Exception error) {
        Document dead = new Document(task).append("claimedUntil", NOT_CLAIMED).append("attempts", attempts)
                .append("dead_at", new Date()).append("lastError", SqsErrors.describe(error));
        MongoCollection<Document> deadLetters = Idempotency.collection(exchange.getContext(),
                fallback.getNamespace().getDatabaseName(), deadLetterCollection);
        try {
            deadLetters.insertOne(dead);
        } catch (RuntimeException e) {
            // moved already by a pass that stopped before the delete: only the delete is left to do
            if (!Idempotency.isDuplicateKey(e)) {
                throw e;
            }
        }
        fallback.deleteOne(Filters.eq("_id", task.getObjectId("_id")));
        deadLettered.computeIfAbsent(deadLetters.getNamespace().getFullName(), name -> new AtomicLong())
                .incrementAndGet();
        LOG.error("Task {} of queue {} moved from {} to dead-letter collection {} after {} attempt(s): SQS will not"
                  + " take it ({})", task.getObjectId("_id"), task.getString("queue"),
                fallback.getNamespace().getCollectionName(), deadLetterCollection, attempts, SqsErrors.describe(error));
    }

    /** Per database.collection of dead letters: how many tasks this process moved there since it started. */
    public Map<String, Long> deadLettered() {
        Map<String, Long> counts = new LinkedHashMap<>();
        deadLettered.forEach((name, count) -> counts.put(name, count.get()));
        return counts;
    }

    /** How many tasks a dead-letter collection holds now, whoever moved them there. */
    public long deadLetterCount(CamelContext context, String database, String deadLetterCollection) {
        return Idempotency.collection(context, database, deadLetterCollection).countDocuments();
    }

    /**
     * Deletes the tasks SQS acknowledged; one MongoDB did not let go of is deleted before anything else is claimed,
     * so it is not sent twice (unless the process dies first: then a FIFO queue drops the second copy by its
     * deduplication id, and a consumer of a standard queue by its taskId).
     */
    private static void deleteSent(MongoCollection<Document> fallback, Set<ObjectId> sent) {
        for (Iterator<ObjectId> ids = sent.iterator(); ids.hasNext(); ) {
            fallback.deleteOne(Filters.eq("_id", ids.next()));
            ids.remove();
        }
    }

    private Set<ObjectId> toDelete(String database, String collection) {
        return sentNotDeleted.computeIfAbsent(database + "." + collection, name -> ConcurrentHashMap.newKeySet());
    }

    /**
     * The pass stopped: MongoDB failed, or the service is shutting down. A task claimed and not sent goes back to the
     * head of the line at once, rather than when its claim runs out.
     */
    public void unclaim(Exchange exchange, String database, String collection) {
        ObjectId id = exchange.getProperty(FALLBACK_ID, ObjectId.class);
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (id != null) {
            try {
                collection(exchange, database, collection).updateOne(Filters.eq("_id", id), Updates.combine(
                        Updates.set("claimedUntil", NOT_CLAIMED),
                        Updates.set("error", error == null ? "not sent: the service stopped" : message(error))));
            } catch (RuntimeException e) {
                LOG.debug("Task {} stays claimed until its claim runs out: {}", id, e.getMessage());
            }
            exchange.removeProperty(FALLBACK_ID);
            exchange.removeProperty(CLAIMED);
        }
        if (error != null) {
            LOG.warn("Redrive of {} stopped{}; next pass in a moment: {}", collection,
                    id == null ? "" : " at task " + id, message(error));
        }
    }

    /**
     * The queue URL the task is for: the one configured, else the one SQS gives for the name (looked up once; while
     * SQS cannot tell, null, and the task is matched by queue name).
     */
    public String resolveQueueUrl(CamelContext context, String queue, String configured) {
        if (configured != null && !configured.isBlank()) {
            return configured.trim();
        }
        String known = queueUrls.get(queue);
        if (known != null) {
            return known;
        }
        try {
            String url = RegistryClients.sqs(context).getQueueUrl(b -> b.queueName(queue)).queueUrl();
            queueUrls.put(queue, url);
            return url;
        } catch (RuntimeException e) {
            LOG.debug("No URL for SQS queue {} yet: {}", queue, e.getMessage());
            return null;
        }
    }

    private static int attemptsOf(Document task) {
        Number attempts = task.get("attempts", Number.class);
        return attempts == null ? 0 : attempts.intValue();
    }

    @SafeVarargs
    private static <T> T firstOf(T... values) {
        for (T value : values) {
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    private static MongoCollection<Document> collection(Exchange exchange, String database, String collection) {
        return Idempotency.collection(exchange.getContext(), database, collection);
    }

    private static String message(Throwable error) {
        return error == null ? "unknown error" : error.getClass().getSimpleName() + ": " + error.getMessage();
    }
}
