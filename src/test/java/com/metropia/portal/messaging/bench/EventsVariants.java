package com.metropia.portal.messaging.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.events.IncentiveEvents;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.component.mongodb.MongoDbConstants;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The beans of the benchmark's two alternatives to the events route (README, "What the shape allows"), not part of the
 * service: {@code bench/events-collate.camel.yaml} splits a request into its batches with {@code collate}, and
 * {@code bench/events-one-step.camel.yaml} builds every document in one step and inserts them in one call. Both check
 * a request as the shipped route does, write the same per-event INFO line and store the same documents; neither has
 * an exchange per event for an edit to filter or route, nor the shipped route's retries and per-batch report.
 */
public final class EventsVariants {

    private static final Logger EVENTS_LOG = LoggerFactory.getLogger("portal.events");
    private static final String IDS = "benchVariantIds";

    private final IncentiveEvents events = new IncentiveEvents(new ObjectMapper());

    /** Where the split's batches put the ids of their documents: shared by reference with every batch. */
    public List<Object> newIds() {
        return new ArrayList<>();
    }

    /** One batch of events as its document, after the per-event INFO line of each. */
    public Document document(List<Map<String, Object>> batch) {
        for (Map<String, Object> event : batch) {
            logLine(event);
        }
        return new Document("action", "event").append("data", batch).append("created_at", new Date());
    }

    /** Every document of a request, batchSize events each, after the per-event INFO line of each event. */
    public List<Document> documents(List<Map<String, Object>> all, int batchSize) {
        List<Document> documents = new ArrayList<>();
        for (int from = 0; from < all.size(); from += batchSize) {
            documents.add(document(all.subList(from, Math.min(from + batchSize, all.size()))));
        }
        return documents;
    }

    /** After a batch's insert: its document's id. */
    @SuppressWarnings("unchecked")
    public void stored(Exchange exchange) {
        exchange.getProperty(IDS, List.class).add(exchange.getMessage().getHeader(MongoDbConstants.OID));
    }

    /** The reply of the shipped route: {@code {events, documents, ids}}. */
    public Map<String, Object> reply(Exchange exchange, int events) {
        List<?> ids = exchange.getProperty(IDS, List.class);
        if (ids == null) {
            Object oid = exchange.getMessage().getHeader(MongoDbConstants.OID);
            ids = oid instanceof List<?> list ? list : List.of(oid);
        }
        Map<String, Object> reply = new LinkedHashMap<>();
        reply.put("events", events);
        reply.put("documents", ids.size());
        reply.put("ids", ids.stream().map(String::valueOf).toList());
        return reply;
    }

    private void logLine(Map<String, Object> event) {
        if (EVENTS_LOG.isInfoEnabled()) {
            EVENTS_LOG.info("Send incentive event {}", events.logged(event));
        }
    }
}
