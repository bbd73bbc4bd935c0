package com.metropia.portal.messaging.support;

import com.metropia.portal.messaging.InvalidRequestException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.bson.Document;

/**
 * What the idempotent task and event paths share: the key of a request, hashes, the client they check MongoDB with,
 * and telling a duplicate key from other write errors.
 */
public final class Idempotency {

    /** Header of a retried request: the same key and body never store or send anything twice. */
    public static final String HEADER = "Idempotency-Key";

    private Idempotency() {
    }

    /**
     * The request's key, or null when it has none. A key the request cannot be kept to is refused (400) rather than
     * ignored, as the caller believes its retries safe: an empty one, one over 255 characters, and the header more
     * than once (the HTTP server makes a list of the values; which one would the retry send?).
     */
    public static String keyOf(Exchange exchange) {
        Object header = exchange.getMessage().getHeader(HEADER);
        if (header instanceof Collection<?> values) {
            if (values.size() > 1) {
                throw new InvalidRequestException("The Idempotency-Key header came " + values.size()
                                                  + " times: send one key");
            }
            header = values.isEmpty() ? null : values.iterator().next();
        }
        if (header == null) {
            return null;
        }
        String key = exchange.getContext().getTypeConverter().convertTo(String.class, exchange, header);
        if (key == null || key.isBlank()) {
            throw new InvalidRequestException("The Idempotency-Key header is empty: send a key (up to 255"
                                              + " characters), or no header for a request without one");
        }
        if (key.length() > 255) {
            throw new InvalidRequestException("The Idempotency-Key is longer than 255 characters");
        }
        return key;
    }

    public static String sha256(String text) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** The client the mongodb endpoints use: the only one in the registry, else the one the portal bound. */
    public static MongoClient mongoClient(CamelContext context) {
        return RegistryClients.mongo(context);
    }

    /** A collection of the database, through {@link #mongoClient(CamelContext)}. */
    public static MongoCollection<Document> collection(CamelContext context, String database, String collection) {
        return mongoClient(context).getDatabase(database).getCollection(collection);
    }

    public static boolean isDuplicateKey(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof MongoWriteException write && write.getError().getCategory() == ErrorCategory.DUPLICATE_KEY) {
                return true;
            }
        }
        return false;
    }
}
