package com.metropia.portal.messaging;

/**
 * The task was not queued, nor kept for later: nothing is in SQS or in the fallback collection for it. As such (HTTP
 * 503) neither SQS nor MongoDB took it and the caller may retry; {@link TaskRefusedException} (502) says a retry cannot
 * help.
 */
public class TaskNotQueuedException extends RuntimeException {

    public TaskNotQueuedException(String message, Throwable cause) {
        super(message, cause);
    }
}
