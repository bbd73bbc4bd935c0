package com.metropia.portal.messaging;

import java.util.List;
import java.util.Map;

/**
 * The request cannot be carried out as sent (HTTP 400): nothing was queued or stored.
 */
public class InvalidRequestException extends RuntimeException {

    private final transient List<Map<String, Object>> errors;

    public InvalidRequestException(String message) {
        this(message, List.of());
    }

    public InvalidRequestException(String message, List<Map<String, Object>> errors) {
        super(message);
        this.errors = List.copyOf(errors);
    }

    /** One entry per problem: {@code field}, {@code message} and, for events, the {@code index} of the event. */
    public List<Map<String, Object>> getErrors() {
        return errors;
    }
}
