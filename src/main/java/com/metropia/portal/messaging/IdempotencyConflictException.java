package com.metropia.portal.messaging;

/**
 * An Idempotency-Key already used for a different request (HTTP 409): nothing was stored.
 */
public class IdempotencyConflictException extends RuntimeException {

    public IdempotencyConflictException(String message) {
        super(message);
    }
}
