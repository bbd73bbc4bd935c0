package com.metropia.portal.messaging.tasks;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.sqs.model.SendMessageResponse;

/**
 * Keeps the last {@code SendMessage} response of the calling thread: camel-aws2-sqs 4.17 passes on the MessageId and
 * the MD5 but not the SequenceNumber a FIFO queue gives, which the caller is owed.
 */
public final class SendMessageResults implements ExecutionInterceptor {

    private static final ThreadLocal<SendMessageResponse> LAST = new ThreadLocal<>();

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes executionAttributes) {
        if (context.response() instanceof SendMessageResponse response) {
            LAST.set(response);
        }
    }

    /** The sequence number of the message just sent on this thread with this id, or null. */
    public static String takeSequenceNumber(String messageId) {
        SendMessageResponse response = LAST.get();
        LAST.remove();
        return response != null && response.messageId().equals(messageId) ? response.sequenceNumber() : null;
    }
}
