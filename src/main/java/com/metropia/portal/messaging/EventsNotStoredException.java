package com.metropia.portal.messaging;

import com.metropia.portal.messaging.events.EventsOutcome;

/**
 * Some events of a call were not stored. The outcome says which batches were (with their ids) and which were not, so
 * the caller can tell what to retry.
 */
public class EventsNotStoredException extends RuntimeException {

    private final transient EventsOutcome outcome;

    public EventsNotStoredException(EventsOutcome outcome) {
        super("Events not stored: " + outcome);
        this.outcome = outcome;
    }

    public EventsOutcome getOutcome() {
        return outcome;
    }
}
