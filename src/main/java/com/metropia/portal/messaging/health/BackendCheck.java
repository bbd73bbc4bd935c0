package com.metropia.portal.messaging.health;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * A readiness check that asks a backend a real question, with a short timeout, and keeps the answer for a while:
 * Kubernetes probes every pod every few seconds, and each probe must not become one more SQS or MongoDB call.
 * <p>
 * Only readiness: a backend that is down is no reason to restart the JVM, which would not bring it back.
 */
abstract class BackendCheck extends AbstractHealthCheck {

    /** What one look at the backend found; kept for {@link #cache}. */
    record Probe(State state, String message, Map<String, Object> details, Instant at) {
    }

    private final Duration cache;
    private final Clock clock;
    private Probe last;

    BackendCheck(String id, Duration cache, Clock clock) {
        super("portal", id);
        this.cache = cache;
        this.clock = clock;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        Probe probe = probe();
        builder.state(probe.state()).message(probe.message());
        probe.details().forEach(builder::detail);
        builder.detail("checked.at", probe.at().toString());
    }

    /**
     * The last answer while it is fresh, else a new one. Synchronized so that probes arriving together while the
     * answer is stale share one backend call instead of each making its own.
     */
    synchronized Probe probe() {
        Instant now = clock.instant();
        if (last == null || !now.isBefore(last.at().plus(cache))) {
            Map<String, Object> details = new LinkedHashMap<>();
            State state;
            String message;
            try {
                message = ask(details);
                state = State.UP;
            } catch (BackendDown down) {
                state = State.DOWN;
                message = down.getMessage();
            } catch (RuntimeException e) {
                state = State.DOWN;
                message = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            // the time the backend answered, so a cached answer is not passed off as a new one
            last = new Probe(state, brief(message), details, clock.instant());
        }
        return last;
    }

    /**
     * Asks the backend; returns the message of an UP answer and fills the details, or throws {@link BackendDown}
     * with the reason in plain words.
     */
    abstract String ask(Map<String, Object> details);

    /** A backend that did not answer, or answered that it will not serve. */
    static final class BackendDown extends RuntimeException {
        BackendDown(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * A driver's message can hold the whole cluster description: the first part says what matters. Camel 4.17 escapes
     * a check's message twice on its way into the health JSON, so a reader would see a double quote as a
     * backslash-quote: quotes become single quotes, and the messages written here avoid slashes.
     */
    static String brief(String message) {
        if (message == null) {
            return null;
        }
        String single = message.replace('"', '\'').replace('\\', ' ');
        return single.length() <= 400 ? single : single.substring(0, 400) + "...";
    }
}
