package com.metropia.portal.messaging.events;

import com.metropia.portal.messaging.support.Idempotency;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What happened to the events of one call of an events route, batch by batch.
 * <p>
 * The aggregator completes batches in another unit of work; this object travels with them as an exchange property (a
 * shared reference), so the caller learns the truth about every batch rather than a blanket success.
 */
public class EventsOutcome {

    /** One batch: its position among the batches of the call, its collection and the request positions of its events. */
    public record Batch(int index, String collection, List<Integer> eventIndexes) {

        public int size() {
            return eventIndexes.size();
        }

        public int firstEvent() {
            return eventIndexes.get(0);
        }

        public int lastEvent() {
            return eventIndexes.get(eventIndexes.size() - 1);
        }

        /** The batch holds every event from the first to the last. */
        public boolean contiguous() {
            return lastEvent() - firstEvent() + 1 == size();
        }

        @Override
        public String toString() {
            return "batch " + index + " (" + size() + " events, " + firstEvent() + "-" + lastEvent() + ") of "
                   + collection;
        }
    }

    private final int events;
    private final String idPrefix;
    private final String database;
    private final List<Object> ids = new ArrayList<>();
    private final Map<String, List<String>> idsByCollection = new LinkedHashMap<>();
    private final List<Map<String, Object>> failures = new ArrayList<>();
    private int batches;
    private int enteredEvents;
    private int settledEvents;
    private int storedEvents;
    private boolean mongoUnavailable;

    /**
     * @param idPrefix with an Idempotency-Key, the start of every batch document id of the call (the batch index
     *                 follows); null otherwise
     * @param database the MongoDB database of the call
     */
    public EventsOutcome(int events, String idPrefix, String database) {
        this.events = events;
        this.idPrefix = idPrefix;
        this.database = database;
    }

    public String database() {
        return database;
    }

    public String idPrefix() {
        return idPrefix;
    }

    /** An event of the call entered a batch (the aggregator took it): the reply waits until its batch is settled. */
    public synchronized void entered() {
        enteredEvents++;
    }

    /** The next batch of the call; batches are numbered in the order they complete. */
    public synchronized Batch nextBatch(String collection, List<Integer> eventIndexes) {
        return new Batch(batches++, collection, List.copyOf(eventIndexes));
    }

    private void settled(Batch batch) {
        settledEvents += batch.size();
        notifyAll();
    }

    /**
     * Waits until every event that entered a batch is in a batch stored or failed, at most the time given.
     *
     * @return whether none is pending
     */
    public synchronized boolean awaitBatches(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(millis);
        while (settledEvents < enteredEvents) {
            long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Events in batches neither stored nor failed yet. */
    public synchronized int pendingEvents() {
        return enteredEvents - settledEvents;
    }

    /** MongoDB acknowledged the batch's document. */
    public synchronized void stored(Batch batch, Object id) {
        ids.add(id);
        idsByCollection.computeIfAbsent(batch.collection(), c -> new ArrayList<>()).add(String.valueOf(id));
        storedEvents += batch.size();
        settled(batch);
    }

    public synchronized void failed(Batch batch, String error) {
        Map<String, Object> failure = new LinkedHashMap<>();
        failure.put("batch", batch.index());
        failure.put("collection", batch.collection());
        failure.put("firstEvent", batch.firstEvent());
        failure.put("lastEvent", batch.lastEvent());
        failure.put("events", batch.size());
        if (!batch.contiguous()) {
            failure.put("eventIndexes", batch.eventIndexes());
        }
        failure.put("error", error);
        failures.add(failure);
        settled(batch);
    }

    /** A batch failed after every attempt because MongoDB did not answer: the call's later batches are not tried. */
    public synchronized void mongoUnavailable() {
        mongoUnavailable = true;
    }

    public synchronized boolean isMongoUnavailable() {
        return mongoUnavailable;
    }

    public int events() {
        return events;
    }

    public synchronized int storedEvents() {
        return storedEvents;
    }

    /** Events the route chose not to store (an edit's filter): those that never entered a batch. */
    public synchronized int droppedEvents() {
        return events - enteredEvents;
    }

    public synchronized List<Object> ids() {
        return List.copyOf(ids);
    }

    public synchronized List<Map<String, Object>> failures() {
        return List.copyOf(failures);
    }

    /** Every batch of the call is in a document MongoDB acknowledged. */
    public synchronized boolean allStored() {
        return failures.isEmpty();
    }

    /** The field of {@link #toMap} counting the documents stored (the HTTP answer is 201 when there is one). */
    public static final String DOCUMENTS = "documents";

    /** {@code {"events": N, "documents": K, "ids": [...]}} plus what was dropped or not stored, if anything. */
    public synchronized Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("events", events);
        map.put(DOCUMENTS, ids.size());
        map.put("ids", ids.stream().map(String::valueOf).toList());
        if (idsByCollection.size() > 1) {
            map.put("idsByCollection", new LinkedHashMap<>(idsByCollection));
        }
        if (droppedEvents() > 0) {
            map.put("droppedEvents", droppedEvents());
        }
        if (events == 0) {
            map.put("detail", "No events: nothing stored");
        }
        if (!allStored() || pendingEvents() > 0) {
            map.put("storedEvents", storedEvents);
            map.put("failedBatches", List.copyOf(failures));
        }
        if (pendingEvents() > 0) {
            map.put("pendingEvents", pendingEvents());
        }
        return map;
    }

    @Override
    public synchronized String toString() {
        return storedEvents + " of " + events + " events stored in " + ids.size() + " documents"
               + (failures.isEmpty() ? "" : ", failed: " + failures)
               + (pendingEvents() > 0 ? ", " + pendingEvents() + " in batches not settled" : "");
    }
}
