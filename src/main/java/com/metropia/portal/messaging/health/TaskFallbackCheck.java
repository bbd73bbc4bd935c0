package com.metropia.portal.messaging.health;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoDatabase;

/**
 * {@code portal-task-fallback}: how many tasks wait in the fallback collection for SQS to take them, with a warning in
 * its message above {@code portal.health.fallback-threshold}, and how many SQS would not take at all (the dead-letter
 * collection, detail {@code dead.letters}), which need a person. Always UP: a deep fallback means SQS is not taking
 * tasks, which {@code portal-sqs} already reports; taking the pod out of service would not drain it (the redrive does),
 * and the tasks it is still given are kept, not lost; dead letters wait for a person, not for another instance.
 */
final class TaskFallbackCheck extends BackendCheck {

    static final String ID = "portal-task-fallback";

    private final Supplier<MongoClient> client;
    private final MongoCheck mongo;
    private final String database;
    private final String collection;
    private final String deadLetterCollection;
    private final long threshold;
    private final Duration timeout;

    TaskFallbackCheck(Supplier<MongoClient> client, MongoCheck mongo, String database, String collection,
                      String deadLetterCollection, long threshold, Duration timeout, Duration cache, Clock clock) {
        super(ID, cache, clock);
        this.client = client;
        this.mongo = mongo;
        this.database = database;
        this.collection = collection;
        this.deadLetterCollection = deadLetterCollection;
        this.threshold = threshold;
        this.timeout = timeout;
    }

    @Override
    String ask(Map<String, Object> details) {
        details.put("collection", database + "." + collection);
        details.put("threshold", threshold);
        details.put("dead.letter.collection", database + "." + deadLetterCollection);
        long depth;
        long deadLetters;
        // a MongoDB that did not answer the ping just now would only make the probe wait out a second timeout
        if (mongo.probe().state() != State.UP) {
            return unknown(details);
        }
        try {
            MongoDatabase db = client.get().getDatabase(database).withTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
            depth = db.getCollection(collection).estimatedDocumentCount();
            deadLetters = db.getCollection(deadLetterCollection).estimatedDocumentCount();
        } catch (MongoException e) {
            return unknown(details);
        }
        details.put("depth", depth);
        details.put("dead.letters", deadLetters);
        String message;
        if (depth > threshold) {
            details.put("above.threshold", true);
            message = "Fallback holds " + depth + " tasks, above the threshold of " + threshold
                      + " (portal.health.fallback-threshold): SQS has not been taking tasks; they are redriven once it"
                      + " does. Readiness is not affected";
        } else {
            message = "Fallback holds " + depth + " tasks";
        }
        if (deadLetters > 0) {
            // not a readiness matter either: the service works, but these tasks reach SQS only if a person acts
            message += "; " + deadLetters + " task(s) SQS will not take are in the dead-letter collection "
                       + deadLetterCollection + " (see their lastError)";
        }
        return message;
    }

    private static String unknown(Map<String, Object> details) {
        details.put("depth", "unknown");
        details.put("dead.letters", "unknown");
        return "Fallback depth unknown: MongoDB not reachable (see " + MongoCheck.ID + ")";
    }

    /** The depth of the last answer (asking MongoDB when it is stale); empty while MongoDB does not answer. */
    OptionalLong depth() {
        return probe().details().get("depth") instanceof Long depth ? OptionalLong.of(depth) : OptionalLong.empty();
    }

    /** The dead letters of the last answer (asking MongoDB when it is stale); empty while MongoDB does not answer. */
    OptionalLong deadLetters() {
        return probe().details().get("dead.letters") instanceof Long count ? OptionalLong.of(count)
                : OptionalLong.empty();
    }
}
