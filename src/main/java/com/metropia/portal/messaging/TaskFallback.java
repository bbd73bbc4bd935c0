package com.metropia.portal.messaging;

import java.time.Duration;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks SQS did not take: kept in a MongoDB collection ({@code portal.tasks.fallback-collection}) until the redrive
 * route moves them to SQS, oldest first, each removed only after SQS acknowledged it. All the state is in MongoDB, so
 * a restart loses nothing and several instances can redrive the same collection (each task is claimed for a while).
 * <p>
 * A fallback document: {@code {_id, body: <the exact SQS message body>, queue, messageGroupId, deduplicationId,
 * idempotencyKey?, created_at, claimedUntil, attempts, error}}.
 */
public class TaskFallback {

    private static final Logger LOG = LoggerFactory.getLogger(TaskFallback.class);

    /** Exchange property: why SQS did not take the task, kept while the task is written to MongoDB instead. */
    public static final String SQS_ERROR = "portalTaskSqsError";
    /** Exchange property: the id of the fallback document being redriven. */
    public static final String FALLBACK_ID = "portalTaskFallbackId";

    private static final Date NOT_CLAIMED = new Date(0);

    private final Duration claim;
    /** Per database.collection: tasks SQS acknowledged whose delete MongoDB has not acknowledged yet. */
    private final Map<String, Set<ObjectId>> sentNotDeleted = new ConcurrentHashMap<>();
    /** The database.collection names whose claim index is made (each redrive may have its own collection). */
    private final Set<String> indexed = ConcurrentHashMap.newKeySet();

    public TaskFallback(Duration claim) {
        this.claim = claim;
    }

    /** The fallback document of the task whose message body is the exchange's body. */
    public Document toDocument(Exchange exchange, String queue, String messageGroupId) {
        ObjectId id = new ObjectId();
        String key = exchange.getProperty(TaskKeys.KEY, String.class);
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        exchange.setProperty(SQS_ERROR, error);
        Document document = new Document("_id", id)
                .append("body", exchange.getMessage().getBody(String.class))
                .append("queue", queue)
                .append("messageGroupId", messageGroupId)
                // on a FIFO queue, SQS drops a second copy sent within 5 minutes (a redrive that stopped after the send)
                .append("deduplicationId", key != null ? key : id.toHexString());
        if (key != null) {
            document.append("idempotencyKey", key);
        }
        return document.append("created_at", new Date())
                .append("claimedUntil", NOT_CLAIMED)
                .append("attempts", 0)
                .append("error", error == null ? null : error.getMessage());
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

    /**
     * Claims the oldest fallback task nobody else is sending, for {@code portal.tasks.redrive-claim-seconds}, and
     * makes it the message to send (the body is null when there is none).
     */
    public void claimOldest(Exchange exchange, String database, String collection) {
        MongoCollection<Document> fallback = collection(exchange, database, collection);
        deleteSent(fallback, toDelete(database, collection));
        Date now = new Date();
        Document task = fallback.findOneAndUpdate(Filters.lte("claimedUntil", now),
                Updates.combine(Updates.set("claimedUntil", Date.from(now.toInstant().plus(claim))),
                        Updates.inc("attempts", 1)),
                new FindOneAndUpdateOptions().sort(Sorts.ascending("created_at", "_id")));
        if (task == null) {
            exchange.getMessage().setBody(null);
            return;
        }
        if (!indexed.contains(database + "." + collection)) {
            // only once there is something to redrive: a service whose SQS never failed creates no collection
            fallback.createIndex(Indexes.ascending("claimedUntil", "created_at"));
            indexed.add(database + "." + collection);
        }
        exchange.setProperty(FALLBACK_ID, task.getObjectId("_id"));
        exchange.setProperty(TaskKeys.KEY, task.getString("idempotencyKey"));
        exchange.setProperty(TaskDeduplicationIds.PROPERTY, task.getString("deduplicationId"));
        exchange.setProperty("CamelAwsMessageGroupId", task.getString("messageGroupId"));
        exchange.getMessage().setBody(task.getString("body"));
    }

    /** SQS acknowledged the claimed task: it leaves the fallback collection. */
    public void redriven(Exchange exchange, String database, String collection) {
        ObjectId id = exchange.getProperty(FALLBACK_ID, ObjectId.class);
        // sent: from here on the task is never handed back, even if MongoDB is gone before it is deleted
        exchange.removeProperty(FALLBACK_ID);
        toDelete(database, collection).add(id);
        LOG.info("Task {} moved from {} to SQS as message {}", id, collection,
                exchange.getMessage().getHeader(Sqs2Constants.MESSAGE_ID, String.class));
        deleteSent(collection(exchange, database, collection), toDelete(database, collection));
    }

    /**
     * Deletes the tasks SQS acknowledged; one MongoDB did not let go of is deleted before anything else is claimed,
     * so it is not sent twice (unless the process dies first: then a FIFO queue drops the second copy by its
     * deduplication id, a standard queue gets it again).
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
     * The pass stopped: SQS (or MongoDB) failed, or the service is shutting down. A task claimed and not sent goes back
     * to the head of the line at once, rather than when its claim runs out.
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
        }
        if (error != null) {
            LOG.warn("Redrive of {} stopped{}; next pass in a moment: {}", collection,
                    id == null ? "" : " at task " + id, message(error));
        }
    }

    private static MongoCollection<Document> collection(Exchange exchange, String database, String collection) {
        return Idempotency.collection(exchange.getContext(), database, collection);
    }

    private static String message(Throwable error) {
        return error == null ? "unknown error" : error.getClass().getSimpleName() + ": " + error.getMessage();
    }
}
