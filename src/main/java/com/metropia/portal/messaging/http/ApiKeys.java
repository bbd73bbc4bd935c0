package com.metropia.portal.messaging.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys that may call the HTTP API, from {@code portal.api-keys}: comma-separated, each trimmed, blank entries
 * ignored.
 * <p>
 * A presented key is compared with every configured key, without stopping at the first match, and as SHA-256 digests:
 * {@link MessageDigest#isEqual} takes the same time whatever the bytes, but not whatever the lengths, and digests all
 * have the same length. So the time of an answer tells a caller neither how much of a key it guessed nor how long the
 * keys are.
 */
final class ApiKeys {

    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) {
        this.digests = digests;
    }

    static ApiKeys parse(String commaSeparated) {
        List<byte[]> digests = new ArrayList<>();
        for (String key : commaSeparated.split(",")) {
            if (!key.isBlank()) {
                digests.add(sha256(key.trim()));
            }
        }
        return new ApiKeys(List.copyOf(digests));
    }

    int size() {
        return digests.size();
    }

    /** Whether the key is one of the configured ones; {@code null} (no key presented) never is. */
    boolean accepts(String presented) {
        if (presented == null) {
            return false;
        }
        byte[] digest = sha256(presented);
        boolean accepted = false;
        for (byte[] key : digests) {
            accepted |= MessageDigest.isEqual(key, digest);
        }
        return accepted;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java runtime has SHA-256", e);
        }
    }
}
