package com.metropia.portal.messaging;

/**
 * SQS refused the task because of the service's own SQS settings (the queue does not exist, access denied, invalid or
 * missing credentials, an endpoint that does not resolve): HTTP 502, nothing queued or kept, and a retry fails the
 * same way until the settings are fixed.
 * <p>
 * It carries no cause on purpose: Camel chooses the {@code onException} clause by the innermost cause, and an SQS
 * error there would answer 503 with a Retry-After that invites retrying forever.
 */
public class TaskRefusedException extends TaskNotQueuedException {

    public TaskRefusedException(String message) {
        super(message, null);
    }
}
