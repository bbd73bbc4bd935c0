package com.metropia.portal.messaging;

/**
 * An Idempotency-Key that cannot be answered now (HTTP 409): nothing was stored. {@link #getConflict()} tells which
 * case it is, as the HTTP answer's {@code conflict} member does.
 */
public class IdempotencyConflictException extends RuntimeException {

    /** The cases of a 409. */
    public enum Conflict {
        /** The key was already used for another task, other tasks or other events: a new key is needed. */
        KEY_REUSED("key-reused"),
        /** A task with the key is being sent by another request: asking again later gets its answer. */
        IN_PROGRESS("in-progress");

        private final String value;

        Conflict(String value) {
            this.value = value;
        }

        /** The value of the answer's {@code conflict} member. */
        public String value() {
            return value;
        }
    }

    private final Conflict conflict;

    public IdempotencyConflictException(String message, Conflict conflict) {
        super(message);
        this.conflict = conflict;
    }

    public Conflict getConflict() {
        return conflict;
    }
}
