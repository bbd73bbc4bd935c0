package com.metropia.portal.messaging.health;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

import com.metropia.portal.messaging.tasks.SqsErrors;

import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/**
 * {@code portal-sqs}: DOWN when the task queue cannot be reached or SQS refuses the service (the queue is gone, the
 * credentials or permissions are refused). It asks {@code GetQueueAttributes} on the queue URL the tasks go to: the
 * same queue, endpoint, region and credentials as a task, without sending anything.
 */
final class SqsCheck extends BackendCheck {

    static final String ID = "portal-sqs";

    private final Supplier<SqsClient> client;
    private final Supplier<String> queueUrl;
    private final Duration timeout;

    SqsCheck(Supplier<SqsClient> client, Supplier<String> queueUrl, Duration timeout, Duration cache, Clock clock) {
        super(ID, cache, clock);
        this.client = client;
        this.queueUrl = queueUrl;
        this.timeout = timeout;
    }

    @Override
    String ask(Map<String, Object> details) {
        String url = queueUrl.get();
        details.put("queue.url", url);
        try {
            Map<String, String> attributes = client.get().getQueueAttributes(b -> b.queueUrl(url)
                    .attributeNamesWithStrings(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES.toString())
                    // the whole call, retries included, fits in the probe's time
                    .overrideConfiguration(o -> o.apiCallTimeout(timeout).apiCallAttemptTimeout(timeout)))
                    .attributesAsStrings();
            String messages = attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES.toString());
            if (messages != null) {
                details.put("queue.messages", messages);
            }
            return "SQS queue reachable";
        } catch (SdkException e) {
            details.put("reason", kind(e));
            throw new BackendDown(reason(e));
        }
    }

    /**
     * {@code refused} (permanent until someone fixes the queue or the credentials), {@code unreachable} or
     * {@code error}: the task path's own classification ({@link SqsErrors}), so readiness and the 502 of a task agree.
     */
    static String kind(SdkException e) {
        if (SqsErrors.kindOf(e) != SqsErrors.Kind.OUTAGE) {
            return "refused";
        }
        return e instanceof AwsServiceException ? "error" : "unreachable";
    }

    static String reason(SdkException e) {
        if (e instanceof QueueDoesNotExistException) {
            return "SQS refuses: the queue does not exist (check portal.sqs.queue or portal.sqs.queue-url)";
        }
        if (e instanceof AwsServiceException service) {
            String code = service.awsErrorDetails() != null ? service.awsErrorDetails().errorCode() : null;
            String what = "refused".equals(kind(e))
                    ? "SQS refuses the service's requests (check its credentials, permissions and queue)"
                    : "SQS answers with errors";
            return what + ": HTTP " + service.statusCode() + (code != null ? " " + code : "") + ": "
                   + firstLine(service.awsErrorDetails() != null
                           ? service.awsErrorDetails().errorMessage() : service.getMessage());
        }
        if ("refused".equals(kind(e))) {
            return "SQS cannot be called (permanent until the configuration changes): " + firstLine(e.getMessage());
        }
        return "SQS not reachable: " + firstLine(e.getMessage());
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }
}
