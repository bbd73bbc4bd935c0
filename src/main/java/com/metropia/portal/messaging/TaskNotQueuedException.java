package com.metropia.portal.messaging;

/**
 * Neither SQS nor the MongoDB fallback collection took the task (HTTP 503): nothing was queued or kept, and the caller
 * may retry.
 */
public class TaskNotQueuedException extends RuntimeException {

    public TaskNotQueuedException(String message, Throwable cause) {
        super(message, cause);
    }
}
