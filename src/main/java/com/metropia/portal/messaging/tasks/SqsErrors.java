package com.metropia.portal.messaging.tasks;

import com.metropia.portal.messaging.PayloadTooLargeException;
import com.metropia.portal.messaging.TaskRefusedException;
import java.io.IOException;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.model.InvalidMessageContentsException;

/**
 * Whether waiting can help a task SQS did not take: the one place that tells an SQS outage from a permanent error.
 * <ul>
 * <li>{@link Kind#OUTAGE}: SQS unreachable, throttling, failing (5xx) or not answering in time: the task is kept and
 * sent later.</li>
 * <li>{@link Kind#QUEUE_REFUSED}: the service's SQS settings are wrong (queue gone, access denied, invalid or missing
 * credentials, unknown host, any other 4xx): every task would be refused the same way until someone changes them.</li>
 * <li>{@link Kind#MESSAGE_REFUSED}: SQS refuses this one message (its text, its size), and will refuse it again.</li>
 * </ul>
 */
public final class SqsErrors {

    private static final Logger LOG = LoggerFactory.getLogger(SqsErrors.class);

    public enum Kind { OUTAGE, QUEUE_REFUSED, MESSAGE_REFUSED }

    private static final Set<String> OUTAGE_CODES = Set.of("RequestTimeout", "RequestTimeoutException",
            "ServiceUnavailable", "InternalError", "InternalFailure", "RequestThrottled", "ThrottlingException",
            "Throttling", "KmsThrottled");

    private static final Set<String> MESSAGE_CODES = Set.of("InvalidMessageContents",
            "AWS.SimpleQueueService.InvalidMessageContents");

    /** How SQS (and ElasticMQ) word a message over the queue's MaximumMessageSize. */
    private static final Pattern TOO_LONG = Pattern.compile("(?i)message must be shorter|MessageTooLong|message.*too long");

    /** The kind of the SQS failure in the chain of causes, or null when SQS is not behind the error. */
    public static Kind kindOf(Throwable error) {
        SdkException sdk = causeOf(SdkException.class, error);
        if (sdk == null) {
            return null;
        }
        if (sdk instanceof AwsServiceException service) {
            return kindOfAnswer(service);
        }
        if (has(sdk, UnknownHostException.class)) {
            return Kind.QUEUE_REFUSED;
        }
        if (has(sdk, IOException.class) || sdk instanceof ApiCallTimeoutException
            || sdk instanceof ApiCallAttemptTimeoutException || sdk.retryable()) {
            return Kind.OUTAGE;
        }
        // a client-side failure that is not I/O: no credentials to sign with, no region, a request it cannot build
        return sdk instanceof SdkClientException ? Kind.QUEUE_REFUSED : Kind.OUTAGE;
    }

    private static Kind kindOfAnswer(AwsServiceException service) {
        String code = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
        int status = service.statusCode();
        if (status >= 500 || status == 408 || status == 429 || status == 0 || service.isThrottlingException()
            || service.isClockSkewException() || (code != null && OUTAGE_CODES.contains(code))) {
            return Kind.OUTAGE;
        }
        if (service instanceof InvalidMessageContentsException || (code != null && MESSAGE_CODES.contains(code))
            || (service.getMessage() != null && TOO_LONG.matcher(service.getMessage()).find())) {
            return Kind.MESSAGE_REFUSED;
        }
        return Kind.QUEUE_REFUSED;
    }

    private static boolean has(Throwable error, Class<? extends Throwable> type) {
        return causeOf(type, error) != null;
    }

    /**
     * The outermost error of the type in the chain of causes. Suppressed errors are not looked at: after its retries
     * the AWS SDK adds each attempt's failure as a suppressed error with no cause, which would hide what failed.
     */
    private static <T extends Throwable> T causeOf(Class<T> type, Throwable error) {
        int depth = 0;
        for (Throwable t = error; t != null && depth < 32; t = t.getCause(), depth++) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /**
     * For the sender's doCatch ({@code onWhen} with the ref language, bound as {@code portalSqsOutage}): whether the
     * failure is an outage, so that keeping the task for later makes sense. A predicate, not a bean method: Camel does
     * not call a bean for an exchange that holds an exception.
     */
    public static final class Outage implements Predicate {
        @Override
        public boolean matches(Exchange exchange) {
            return kindOf(failure(exchange)) == Kind.OUTAGE;
        }
    }

    /**
     * For the sender, when the task is not kept: the error the caller gets. A refusal of the service's SQS settings is
     * logged at ERROR and becomes a {@link TaskRefusedException} (502); SQS refusing this message's size becomes 413;
     * anything else goes on as it is.
     */
    public void rethrow(Exchange exchange) throws Exception {
        Exception error = failure(exchange);
        Kind kind = kindOf(error);
        if (kind == Kind.QUEUE_REFUSED) {
            LOG.error("SQS refused a task because of the service's SQS settings; nothing was queued or kept: {}",
                    describe(error));
            throw new TaskRefusedException("The task was not queued: SQS refused it because of this service's SQS"
                                           + " configuration (" + describe(error) + "). Nothing was queued or kept;"
                                           + " a retry fails the same way until the configuration is fixed");
        }
        if (kind == Kind.MESSAGE_REFUSED && TOO_LONG.matcher(String.valueOf(error.getMessage())).find()) {
            throw new PayloadTooLargeException("SQS refused the task as larger than its queue takes ("
                                               + describe(error) + "); nothing was queued");
        }
        throw error;
    }

    /** Why a task was kept, in words a person reads in the fallback document. */
    public static String reason(Throwable error) {
        Kind kind = kindOf(error);
        String why = kind == Kind.OUTAGE ? "SQS was unavailable (unreachable, throttling, failing or too slow)"
                : "SQS did not take it";
        return why + ": " + describe(error);
    }

    /** The error's class and message, the SQS one when SQS is behind it. */
    public static String describe(Throwable error) {
        if (error == null) {
            return "unknown error";
        }
        SdkException sdk = causeOf(SdkException.class, error);
        Throwable shown = sdk != null ? sdk : error;
        return shown.getClass().getSimpleName() + ": " + shown.getMessage();
    }

    private static Exception failure(Exchange exchange) {
        Exception error = exchange.getException();
        return error != null ? error : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }
}
