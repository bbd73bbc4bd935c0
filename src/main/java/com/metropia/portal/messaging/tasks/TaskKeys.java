package com.metropia.portal.messaging.tasks;

import com.metropia.portal.messaging.IdempotencyConflictException;
import com.metropia.portal.messaging.IdempotencyConflictException.Conflict;
import com.metropia.portal.messaging.support.Idempotency;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import org.apache.camel.Exchange;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tasks sent with an {@code Idempotency-Key}: one SQS message per key. The first request reserves the key in MongoDB
 * (collection {@code portal.tasks.idempotency-collection}), sends, and records the message id; a retry with the same
 * task is answered from the record without sending again; the same key with another task is refused.
 * <p>
 * A record or a release MongoDB does not take when the task is done is kept in memory and written as soon as MongoDB
 * answers again (before the next key is reserved, and on each redrive pass); meanwhile a retry that reaches this
 * instance is answered from memory. Keys expire {@code portal.tasks.idempotency-ttl-hours} after they were reserved
 * (a TTL index on {@code created_at}).
 */
public class TaskKeys {

    private static final Logger LOG = LoggerFactory.getLogger(TaskKeys.class);

    /** Exchange property: the hash of the request's key, when it has one. */
    public static final String KEY = "portalTaskKey";
    /** Exchange property: the reply of the earlier request with the same key and task. */
    public static final String REPLAY = "portalTaskReplay";
    /** Exchange property: the hash of the task sent with the key. */
    private static final String REQUEST_HASH = "portalTaskRequest";

    private static final String REQUEST = "request";
    private static final String FALLBACK_ID = "fallbackId";
    private static final String CREATED_AT = "created_at";
    /** The answer to a batch of tasks sent with the key: one result per task. */
    private static final String BATCH_REPLY = "batch";
    /** MongoDB's IndexOptionsConflict: an index on the same keys exists with other options. */
    private static final int INDEX_OPTIONS_CONFLICT = 85;

    /** A reply to record under a key, with the hash of its task: what a retry must match to get it. */
    private record Pending(String request, Map<String, Object> reply) {
    }

    private final String database;
    private final String collection;
    private final Duration abandonedAfter;
    private final Duration ttl;
    /** Records MongoDB did not take yet, by key hash. */
    private final Map<String, Pending> pendingRecords = new ConcurrentHashMap<>();
    /** Keys of tasks neither queued nor kept whose reservation MongoDB did not release yet. */
    private final Set<String> pendingFrees = ConcurrentHashMap.newKeySet();
    /** The database.collection names whose TTL index is made. */
    private final Set<String> indexed = ConcurrentHashMap.newKeySet();

    public TaskKeys(String database, String collection, Duration abandonedAfter, Duration ttl) {
        this.database = database;
        this.collection = collection;
        this.abandonedAfter = abandonedAfter;
        if (ttl.toHours() < 1) {
            throw new IllegalStateException("portal.tasks.idempotency-ttl-hours must be at least 1, not " + ttl.toHours());
        }
        this.ttl = ttl;
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
        exchange.setProperty(REQUEST_HASH, request);
        Pending pending = pendingRecords.get(id);
        // (a record the redrive made knows no request: MongoDB's copy of the key is the one to compare with)
        if (pending != null && pending.request() != null) {
            // this instance sent (or kept) the task and MongoDB has not taken the record yet: the answer is here
            if (!pending.request().equals(request)) {
                throw conflict(exchange);
            }
            exchange.setProperty(REPLAY, pending.reply());
            return;
        }
        MongoCollection<Document> keys = keys(exchange);
        writePending(keys);
        ensureTtlIndex(exchange, keys);
        Date now = new Date();
        try {
            keys.insertOne(new Document("_id", id).append(REQUEST, request).append(CREATED_AT, now));
            return;
        } catch (MongoWriteException e) {
            if (!Idempotency.isDuplicateKey(e)) {
                throw e;
            }
        }
        Document earlier = keys.find(Filters.eq("_id", id)).first();
        if (earlier == null || !request.equals(earlier.getString(REQUEST))) {
            throw conflict(exchange);
        }
        if (earlier.get(BATCH_REPLY) instanceof Document batch) {
            // a batch of tasks: its per-entry answer, as the first request got it
            exchange.setProperty(REPLAY, new LinkedHashMap<>(batch));
            return;
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
        Date created = earlier.getDate(CREATED_AT);
        boolean abandoned = created.toInstant().plus(abandonedAfter).isBefore(now.toInstant());
        if (!abandoned || keys.updateOne(Filters.and(Filters.eq("_id", id), Filters.eq(CREATED_AT, created)),
                Updates.set(CREATED_AT, now)).getModifiedCount() == 0) {
            exchange.removeProperty(KEY);
            throw new IdempotencyConflictException("A task with this Idempotency-Key is being sent: retry in a few"
                                                   + " seconds", Conflict.IN_PROGRESS);
        }
    }

    private static IdempotencyConflictException conflict(Exchange exchange) {
        exchange.removeProperty(KEY);
        return new IdempotencyConflictException("The Idempotency-Key was already used for another task: send this"
                                                + " one with a new key", Conflict.KEY_REUSED);
    }

    /**
     * After SQS acknowledged, or the fallback collection kept the task: records the reply under the key. The task is
     * queued (or kept) whatever happens here, so a record MongoDB does not take is kept in memory and written later,
     * never turned into an error: the caller is told the truth and does not retry.
     */
    public void sent(Exchange exchange) {
        String id = exchange.getProperty(KEY, String.class);
        if (id == null) {
            return;
        }
        Map<?, ?> body = exchange.getMessage().getBody(Map.class);
        Map<String, Object> reply = new LinkedHashMap<>();
        body.forEach((name, value) -> reply.put(String.valueOf(name), value));
        Pending pending = new Pending(exchange.getProperty(REQUEST_HASH, String.class), reply);
        try {
            record(keys(exchange), id, pending);
        } catch (MongoException e) {
            pendingRecords.put(id, pending);
            LOG.warn("Task queued, but MongoDB did not take the record of its Idempotency-Key ({}): kept in memory"
                     + " and written when MongoDB answers again", e.getMessage());
        }
    }

    private static void record(MongoCollection<Document> keys, String id, Pending pending) {
        Map<String, Object> reply = pending.reply();
        Bson update = reply.containsKey(TaskBatches.RESULTS)
                ? Updates.combine(Updates.set(BATCH_REPLY, new Document(reply)), Updates.set("sent_at", new Date()))
                : reply.containsKey("fallback")
                ? Updates.combine(Updates.set(FALLBACK_ID, reply.get(FALLBACK_ID)), Updates.set("kept_at", new Date()))
                : Updates.combine(Updates.set("messageId", reply.get("messageId")),
                        Updates.set("md5OfBody", reply.get("md5OfBody")),
                        Updates.set("sequenceNumber", reply.get("sequenceNumber")),
                        Updates.set("sent_at", new Date()));
        // upsert: the reservation may be gone by the time a late record is written (expired, or released by hand)
        Bson reservation = pending.request() == null ? Updates.setOnInsert(CREATED_AT, new Date())
                : Updates.combine(Updates.setOnInsert(REQUEST, pending.request()),
                        Updates.setOnInsert(CREATED_AT, new Date()));
        keys.updateOne(Filters.eq("_id", id), Updates.combine(update, reservation), new UpdateOptions().upsert(true));
    }

    /**
     * The task was neither queued nor kept: frees the key for a retry. Never fails: a release MongoDB does not take
     * is kept in memory and written before this instance reserves a key again.
     */
    public void free(Exchange exchange) {
        String id = exchange.getProperty(KEY, String.class);
        if (id == null) {
            return;
        }
        try {
            release(keys(exchange), id);
        } catch (MongoException e) {
            pendingFrees.add(id);
            LOG.warn("The Idempotency-Key of a task that was not queued stays reserved until MongoDB answers again"
                     + " ({})", e.getMessage());
        }
    }

    private static void release(MongoCollection<Document> keys, String id) {
        keys.deleteOne(Filters.and(Filters.eq("_id", id), Filters.exists("messageId", false),
                Filters.exists(FALLBACK_ID, false), Filters.exists(BATCH_REPLY, false)));
    }

    /** Writes the records and releases MongoDB did not take earlier; quietly waits for a later pass if it still fails. */
    public void writePending(Exchange exchange) {
        if (pendingRecords.isEmpty() && pendingFrees.isEmpty()) {
            return;
        }
        try {
            writePending(keys(exchange));
        } catch (MongoException e) {
            LOG.debug("Idempotency-Key records wait for MongoDB: {}", e.getMessage());
        }
    }

    /** Stops at the first failure: MongoDB is still away, and each further write would wait as long. */
    private void writePending(MongoCollection<Document> keys) {
        for (String id : pendingFrees) {
            release(keys, id);
            pendingFrees.remove(id);
        }
        for (Map.Entry<String, Pending> pending : pendingRecords.entrySet()) {
            record(keys, pending.getKey(), pending.getValue());
            pendingRecords.remove(pending.getKey(), pending.getValue());
            LOG.info("The Idempotency-Key record kept in memory is now in MongoDB");
        }
    }

    /** Keys expire: a TTL index on created_at, made once per collection. */
    private void ensureTtlIndex(Exchange exchange, MongoCollection<Document> keys) {
        String name = keys.getNamespace().getFullName();
        if (indexed.contains(name)) {
            return;
        }
        long seconds = ttl.toSeconds();
        try {
            keys.createIndex(Indexes.ascending(CREATED_AT), new IndexOptions().expireAfter(seconds, TimeUnit.SECONDS));
        } catch (MongoCommandException e) {
            if (e.getErrorCode() != INDEX_OPTIONS_CONFLICT) {
                throw e;
            }
            // made earlier with another lifetime (the setting changed): MongoDB changes it in place
            Idempotency.mongoClient(exchange.getContext()).getDatabase(keys.getNamespace().getDatabaseName())
                    .runCommand(new Document("collMod", keys.getNamespace().getCollectionName())
                            .append("index", new Document("keyPattern", new Document(CREATED_AT, 1))
                                    .append("expireAfterSeconds", seconds)));
        }
        indexed.add(name);
    }

    private MongoCollection<Document> keys(Exchange exchange) {
        return Idempotency.collection(exchange.getContext(), database, collection);
    }
}
