package com.metropia.portal.messaging.support;

import com.mongodb.MongoException;
import com.mongodb.MongoWriteException;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Predicate;
import org.apache.camel.processor.errorhandler.RedeliveryPolicy;

/**
 * When and how often the routes' MongoDB writes are tried again ({@code retryWhileRef} of their error handler): up to
 * {@code portal.mongodb.max-attempts} attempts in all, for failures that may pass (no server, a closed connection, a
 * timeout). A write MongoDB refused (a duplicate key, a validation error) would fail the same way again.
 */
public class MongoRetries implements Predicate {

    private final int maxAttempts;

    public MongoRetries(int maxAttempts) {
        if (maxAttempts < 1) {
            throw new IllegalStateException("portal.mongodb.max-attempts must be at least 1, not " + maxAttempts);
        }
        this.maxAttempts = maxAttempts;
    }

    @Override
    public boolean matches(Exchange exchange) {
        int failedAttempts = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class);
        // the error handler has taken the failure off the exchange while it decides
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        return failedAttempts < maxAttempts && mayPass(error);
    }

    /** The waits between attempts: exponential backoff from base to max; each retry logged at WARN, one line. */
    public RedeliveryPolicy redeliveryPolicy(long baseDelayMillis, long maxDelayMillis) {
        RedeliveryPolicy policy = new RedeliveryPolicy();
        // the predicate decides; without a maximum above 0 the error handler would not ask it
        policy.setMaximumRedeliveries(maxAttempts - 1);
        policy.setRedeliveryDelay(baseDelayMillis);
        policy.setUseExponentialBackOff(true);
        policy.setBackOffMultiplier(2);
        policy.setMaximumRedeliveryDelay(maxDelayMillis);
        policy.setRetryAttemptedLogLevel(LoggingLevel.WARN);
        policy.setLogRetryStackTrace(false);
        // the route that asked for the write reports the failure to its caller and logs it
        policy.setLogExhausted(false);
        return policy;
    }

    public static boolean mayPass(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof MongoWriteException) {
                return false;
            }
            if (t instanceof MongoException) {
                return true;
            }
        }
        return false;
    }
}
