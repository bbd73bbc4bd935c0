package com.metropia.portal.messaging;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What happened to the events of one call of {@code direct:events}, batch by batch.
 * <p>
 * The aggregator completes batches in another unit of work; this object travels with them as an exchange property (a
 * shared reference), so the caller learns the truth about every batch rather than a blanket success.
 */
public class EventsOutcome {

    /** One batch: its position among the batches of the call and the range of events it holds. */
    public record Batch(int index, int firstEvent, int size) {

        public int lastEvent() {
            return firstEvent + size - 1;
        }

        @Override
        public String toString() {
            return "batch " + index + " (events " + firstEvent + "-" + lastEvent() + ")";
        }
    }

    private final int events;
    private final List<Object> ids = new ArrayList<>();
    private final List<Map<String, Object>> failures = new ArrayList<>();
    private int batches;
    private int nextEvent;
    private int storedEvents;

    public EventsOutcome(int events) {
        this.events = events;
    }

    /** The next batch of the call, of the given size; batches come in request order. */
    public synchronized Batch nextBatch(int size) {
        Batch batch = new Batch(batches++, nextEvent, size);
        nextEvent += size;
        return batch;
    }

    /** MongoDB acknowledged the batch's document. */
    public synchronized void stored(Batch batch, Object id) {
        ids.add(id);
        storedEvents += batch.size();
    }

    public synchronized void failed(Batch batch, String error) {
        Map<String, Object> failure = new LinkedHashMap<>();
        failure.put("batch", batch.index());
        failure.put("firstEvent", batch.firstEvent());
        failure.put("lastEvent", batch.lastEvent());
        failure.put("events", batch.size());
        failure.put("error", error);
        failures.add(failure);
    }

    public int events() {
        return events;
    }

    public synchronized int storedEvents() {
        return storedEvents;
    }

    public synchronized List<Object> ids() {
        return List.copyOf(ids);
    }

    public synchronized List<Map<String, Object>> failures() {
        return List.copyOf(failures);
    }

    /** Every event of the call is in a document MongoDB acknowledged. */
    public synchronized boolean allStored() {
        return failures.isEmpty() && storedEvents == events;
    }

    /** {@code {"events": N, "documents": K, "ids": [...]}} plus, when not all were stored, what failed. */
    public synchronized Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("events", events);
        map.put("documents", ids.size());
        map.put("ids", ids.stream().map(String::valueOf).toList());
        if (events == 0) {
            map.put("detail", "No events: nothing stored");
        }
        if (!allStored()) {
            map.put("storedEvents", storedEvents);
            map.put("failedBatches", List.copyOf(failures));
        }
        return map;
    }

    @Override
    public synchronized String toString() {
        return storedEvents + " of " + events + " events stored in " + ids.size() + " documents"
               + (failures.isEmpty() ? "" : ", failed: " + failures);
    }
}
