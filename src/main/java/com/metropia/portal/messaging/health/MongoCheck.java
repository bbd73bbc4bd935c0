package com.metropia.portal.messaging.health;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import org.bson.Document;

/**
 * {@code portal-mongodb}: DOWN when MongoDB does not answer a {@code ping} on the service's database within the
 * timeout. Events, the task fallback and the task keys all need it.
 */
final class MongoCheck extends BackendCheck {

    static final String ID = "portal-mongodb";

    private final Supplier<MongoClient> client;
    private final String database;
    private final Duration timeout;

    MongoCheck(Supplier<MongoClient> client, String database, Duration timeout, Duration cache, Clock clock) {
        super(ID, cache, clock);
        this.client = client;
        this.database = database;
        this.timeout = timeout;
    }

    @Override
    String ask(Map<String, Object> details) {
        details.put("database", database);
        try {
            // withTimeout (the driver's client-side operation timeout, marked alpha in driver 5.6) bounds server
            // selection too, which otherwise waits portal.mongodb.server-selection-timeout-ms
            client.get().getDatabase(database).withTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .runCommand(new Document("ping", 1));
            return "MongoDB answers";
        } catch (MongoException e) {
            details.put("reason", "unreachable");
            throw new BackendDown("MongoDB not reachable: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
