package com.metropia.portal.messaging.tasks;

import com.metropia.portal.messaging.config.PortalConfiguration;
import com.metropia.portal.messaging.support.Idempotency;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.ExchangeIdMessageDeduplicationIdStrategy;

/**
 * The MessageDeduplicationId of a task on a FIFO queue: its task id ({@link PortalTasks#assignTaskId}, the hash of its
 * Idempotency-Key when it has one), kept with the task in the fallback collection, so that SQS itself drops a second
 * copy sent within its 5-minute deduplication interval. Other messages keep camel-aws2-sqs's default, the exchange id.
 * <p>
 * camel-aws2-sqs 4.17 takes only the names of its two strategies as an endpoint option; this one is set on its SQS
 * endpoints as they are created ({@link PortalConfiguration}).
 */
public class TaskDeduplicationIds extends ExchangeIdMessageDeduplicationIdStrategy {

    /** Exchange property holding the deduplication id of the task being sent. */
    public static final String PROPERTY = PortalTasks.TASK_ID;

    @Override
    public String getMessageDeduplicationId(Exchange exchange) {
        String id = exchange.getProperty(PROPERTY, String.class);
        return id != null ? id : super.getMessageDeduplicationId(exchange);
    }
}
