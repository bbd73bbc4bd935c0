package com.metropia.portal.messaging;

/**
 * The request is larger than where it goes can take (HTTP 413): nothing was queued or stored.
 */
public class PayloadTooLargeException extends RuntimeException {

    public PayloadTooLargeException(String message) {
        super(message);
    }
}
