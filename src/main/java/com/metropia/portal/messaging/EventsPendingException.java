package com.metropia.portal.messaging;

import com.metropia.portal.messaging.events.EventsOutcome;
import com.metropia.portal.messaging.support.Idempotency;

/**
 * The call cannot be answered truthfully: a batch of its events was neither stored nor failed within the wait
 * (portal.events.pending-batch-wait-ms). It is a fault of the route, not of the caller (HTTP 500): an edit made the
 * aggregator complete batches on a thread of its own, or a batch step lost its batch. Those batches may still be
 * stored; a retry with the same Idempotency-Key stores nothing twice.
 */
public class EventsPendingException extends RuntimeException {

    private final transient EventsOutcome outcome;

    public EventsPendingException(EventsOutcome outcome, long waitedMillis) {
        super("Not answered: " + outcome.pendingEvents() + " of " + outcome.events() + " events were still in batches"
              + " neither stored nor failed after " + waitedMillis + " ms (does the aggregate run on"
              + " #portalSynchronousExecutor?); " + outcome.storedEvents() + " events are stored (ids listed)");
        this.outcome = outcome;
    }

    public EventsOutcome getOutcome() {
        return outcome;
    }
}
