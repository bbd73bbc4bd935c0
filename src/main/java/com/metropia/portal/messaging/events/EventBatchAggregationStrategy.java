package com.metropia.portal.messaging.events;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Groups events into a batch, remembering the position each one had in the request, so that a batch that fails can
 * be reported as exactly the events it held, even when an edit of the route filtered or re-routed some of them.
 */
public class EventBatchAggregationStrategy implements AggregationStrategy {

    /** Exchange property of the batch: the request positions of its events, in order. */
    public static final String EVENT_INDEXES = "portalEventIndexes";

    private static final String EVENTS = "portalBatchEvents";

    @Override
    public Exchange aggregate(Exchange batch, Exchange event) {
        if (batch == null) {
            batch = event;
            batch.setProperty(EVENTS, new ArrayList<>());
            batch.setProperty(EVENT_INDEXES, new ArrayList<Integer>());
        }
        // The call's outcome counts what entered a batch, so that it can refuse to reply while a batch is pending.
        EventsOutcome outcome = event.getProperty(IncentiveEvents.OUTCOME, EventsOutcome.class);
        if (outcome != null) {
            outcome.entered();
        }
        batch.getProperty(EVENTS, List.class).add(event.getMessage().getBody());
        batch.getProperty(EVENT_INDEXES, List.class).add(event.getProperty(Exchange.SPLIT_INDEX, Integer.class));
        return batch;
    }

    @Override
    public void onCompletion(Exchange batch) {
        batch.getMessage().setBody(batch.removeProperty(EVENTS));
    }
}
