package com.metropia.portal.messaging;

import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

import com.mongodb.MongoException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import org.apache.camel.Exchange;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks sent with an {@code Idempotency-Key}: one SQS message per key. The first request reserves the key in MongoDB
 * (collection {@code portal.tasks.idempotency-collection}), sends, and records the message id; a retry with the same
 * task is answered from the record without sending again; the same key with another task is refused.
 */
public class TaskKeys {

    private static final Logger LOG = LoggerFactory.getLogger(TaskKeys.class);

    /** Exchange property: the hash of the request's key, when it has one. */
    public static final String KEY = "portalTaskKey";
    /** Exchange property: the reply of the earlier request with the same key and task. */
    public static final String REPLAY = "portalTaskReplay";

    private static final String REQUEST = "request";
    private static final String FALLBACK_ID = "fallbackId";

    private final String database;
    private final String collection;
    private final Duration abandonedAfter;

    public TaskKeys(String database, String collection, Duration abandonedAfter) {
        this.database = database;
        this.collection = collection;
        this.abandonedAfter = abandonedAfter;
    }

    /** Before sending: reserves the key, or finds the earlier reply, or refuses a key used for another task. */
    public void reserve(Exchange exchange) throws NoSuchAlgorithmException {
        String key = Idempotency.keyOf(exchange);
        if (key == null) {
            return;
        }
        String id = Idempotency.sha256(key);
        String request = Idempotency.sha256(exchange.getMessage().getBody(String.class));
        exchange.setProperty(KEY, id);
        exchange.setProperty(TaskDeduplicationIds.PROPERTY, id);
        MongoCollection<Document> keys = keys(exchange);
        Date now = new Date();
        try {
            keys.insertOne(new Document("_id", id).append(REQUEST, request).append("created_at", now));
            return;
        } catch (MongoWriteException e) {
            if (!Idempotency.isDuplicateKey(e)) {
                throw e;
            }
        }
        Document earlier = keys.find(Filters.eq("_id", id)).first();
        if (earlier == null || !request.equals(earlier.getString(REQUEST))) {
            exchange.removeProperty(KEY);
            throw new IdempotencyConflictException("The Idempotency-Key was already used for another task: send this"
                                                   + " one with a new key");
        }
        if (earlier.getString("messageId") != null) {
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("messageId", earlier.getString("messageId"));
            reply.put("md5OfBody", earlier.getString("md5OfBody"));
            if (earlier.getString("sequenceNumber") != null) {
                reply.put("sequenceNumber", earlier.getString("sequenceNumber"));
            }
            exchange.setProperty(REPLAY, reply);
            return;
        }
        if (earlier.getString(FALLBACK_ID) != null) {
            // kept in the fallback collection and not yet redriven to SQS
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("fallback", true);
            reply.put(FALLBACK_ID, earlier.getString(FALLBACK_ID));
            exchange.setProperty(REPLAY, reply);
            return;
        }
        // Reserved but never recorded: in flight now, or abandoned by a process that stopped; take over the latter.
        Date created = earlier.getDate("created_at");
        boolean abandoned = created.toInstant().plus(abandonedAfter).isBefore(now.toInstant());
        if (!abandoned || keys.updateOne(Filters.and(Filters.eq("_id", id), Filters.eq("created_at", created)),
                Updates.set("created_at", now)).getModifiedCount() == 0) {
            exchange.removeProperty(KEY);
            throw new IdempotencyConflictException("A task with this Idempotency-Key is being sent: retry in a few"
                                                   + " seconds");
        }
    }

    /**
     * After SQS acknowledged, or the fallback collection kept the task: records the reply under the key. The task is
     * queued (or kept) whatever happens here, so a failure to record is logged, never turned into an error: the caller
     * is told the truth and does not retry.
     */
    public void sent(Exchange exchange) {
        String id = exchange.getProperty(KEY, String.class);
        if (id == null) {
            return;
        }
        try {
            record(exchange, id);
        } catch (MongoException e) {
            LOG.warn("Task queued, but its Idempotency-Key record was not updated ({}): a retry with the key gets 409"
                     + " until the key counts as abandoned", e.getMessage());
        }
    }

    private void record(Exchange exchange, String id) {
        Map<?, ?> reply = exchange.getMessage().getBody(Map.class);
        if (reply.containsKey("fallback")) {
            keys(exchange).updateOne(Filters.eq("_id", id), Updates.combine(
                    Updates.set(FALLBACK_ID, reply.get(FALLBACK_ID)),
                    Updates.set("kept_at", new Date())));
        } else {
            keys(exchange).updateOne(Filters.eq("_id", id), Updates.combine(
                    Updates.set("messageId", reply.get("messageId")),
                    Updates.set("md5OfBody", reply.get("md5OfBody")),
                    Updates.set("sequenceNumber", reply.get("sequenceNumber")),
                    Updates.set("sent_at", new Date())));
        }
    }

    /** The task was neither queued nor kept: frees the key for a retry, and passes the failure on. */
    public void release(Exchange exchange) throws Exception {
        free(exchange);
        throw exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }

    /** The task was neither queued nor kept: frees the key for a retry. */
    public void free(Exchange exchange) {
        String id = exchange.getProperty(KEY, String.class);
        if (id != null) {
            keys(exchange).deleteOne(Filters.and(Filters.eq("_id", id), Filters.exists("messageId", false),
                    Filters.exists(FALLBACK_ID, false)));
        }
    }

    private MongoCollection<Document> keys(Exchange exchange) {
        return Idempotency.collection(exchange.getContext(), database, collection);
    }
}
