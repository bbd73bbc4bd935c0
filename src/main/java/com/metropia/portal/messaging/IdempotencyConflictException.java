package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;

/**
 * An Idempotency-Key already used for a different request (HTTP 409): nothing was stored.
 */
public class IdempotencyConflictException extends RuntimeException {

    public IdempotencyConflictException(String message) {
        super(message);
    }
}
