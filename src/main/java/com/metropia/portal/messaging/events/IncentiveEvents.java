package com.metropia.portal.messaging.events;

import com.metropia.portal.messaging.EventsNotStoredException;
import com.metropia.portal.messaging.EventsPendingException;
import com.metropia.portal.messaging.IdempotencyConflictException;
import com.metropia.portal.messaging.IdempotencyConflictException.Conflict;
import com.metropia.portal.messaging.InvalidRequestException;
import com.metropia.portal.messaging.PayloadTooLargeException;
import com.metropia.portal.messaging.http.RequestIds;
import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.support.LogValues;
import com.metropia.portal.messaging.support.MongoRetries;
import com.metropia.portal.messaging.support.PortalJson;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import org.apache.camel.Exchange;
import org.apache.camel.Navigate;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.processor.aggregate.AggregateProcessor;
import org.apache.camel.component.mongodb.MongoDbConstants;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.Codec;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of the events route that YAML cannot express: the request's shape, the batch document the incentive
 * system reads, and the bookkeeping that tells the caller what was stored.
 */
public class IncentiveEvents {

    /** Exchange property holding the {@link EventsOutcome} of the call. */
    public static final String OUTCOME = "portalEventsOutcome";
    /** Exchange property holding the {@link EventsOutcome.Batch} being stored. */
    public static final String BATCH = "portalEventsBatch";
    /**
     * Exchange property holding the request id of the call, set before the split so that every batch carries it (the
     * split and the aggregator copy exchange properties, not the headers an edit may remove).
     */
    public static final String REQUEST_ID = RequestIds.PROPERTY;
    /** Field of a stored document holding the id of the request that wrote it. */
    public static final String REQUEST_ID_FIELD = "request_id";

    private static final Logger LOG = LoggerFactory.getLogger("portal.events");

    private final ObjectMapper mapper;

    public IncentiveEvents(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * The events of a request: a JSON array, or the array under {@code "events"} of an object that holds nothing else.
     * Any other body (a JSON string, a number, an object without {@code "events"}, ...) is refused: a caller whose body
     * is not the documented shape must not be told "nothing stored" as if it had sent no events. A request of more
     * than maxEvents events is refused (413) before any of them is checked or stored.
     */
    public JsonNode request(JsonNode body, int maxEvents) {
        JsonNode events = events(body);
        if (events.size() > maxEvents) {
            throw new PayloadTooLargeException("The request holds " + events.size() + " events; at most " + maxEvents
                                               + " are taken in one request (portal.events.max-events): send them in"
                                               + " several requests");
        }
        return events;
    }

    private static JsonNode events(JsonNode body) {
        if (body.isArray()) {
            return body;
        }
        String expected = "The events are a JSON array of events, or an object {\"events\": [...]}";
        if (!body.isObject()) {
            throw PortalJson.invalidBody(expected + ", not " + PortalJson.kindOf(body) + PortalJson.encodedTwice(body));
        }
        JsonNode events = body.get("events");
        if (events == null) {
            throw PortalJson.invalidBody(expected + ": the object has no \"events\"");
        }
        if (!events.isArray()) {
            String message = "\"events\" must be an array of events, not " + PortalJson.kindOf(events);
            throw new InvalidRequestException(expected + ": " + message,
                    List.of(Map.of("field", "events", "message", message)));
        }
        if (body.size() > 1) {
            List<Map<String, Object>> errors = new ArrayList<>();
            body.fieldNames().forEachRemaining(name -> {
                if (!name.equals("events")) {
                    errors.add(Map.of("field", LogValues.escape(name), "message",
                            "unknown field: only \"events\" is taken next to the events"));
                }
            });
            throw new InvalidRequestException(expected + ": the object holds other fields than \"events\"", errors);
        }
        return events;
    }

    /** Level of eventMeta in the stored document: the document, its data array, the event, eventMeta. */
    private static final int EVENT_META_LEVEL = 4;

    /**
     * The validated events as the documents' {@code data} entries: {@code userIds} always strings (the documented
     * type; callers may send integers), the rest as sent. Whatever MongoDB would refuse or change in an event is
     * refused here, naming the event and the field, before anything is stored.
     */
    public List<Map<String, Object>> toEvents(JsonNode events) {
        List<Map<String, Object>> list = new ArrayList<>(events.size());
        List<Map<String, Object>> errors = new ArrayList<>();
        for (JsonNode event : events) {
            int index = list.size();
            Map<String, Object> entry = new LinkedHashMap<>();
            JsonNode ids = event.get("userIds");
            List<String> userIds = new ArrayList<>(ids.size());
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i).asText();
                userIds.add(storable(id, index, "userIds[" + i + "]", errors));
            }
            entry.put("userIds", userIds);
            entry.put("eventName", storable(event.get("eventName").textValue(), index, "eventName", errors));
            try {
                entry.put("eventMeta", PortalJson.toStoredValue(event.get("eventMeta"), EVENT_META_LEVEL));
            } catch (PortalJson.NotStorableException e) {
                errors.add(error(index, "eventMeta" + e.field(), e.getMessage()));
            }
            list.add(entry);
        }
        if (!errors.isEmpty()) {
            String summary = errors.stream().limit(10)
                    .map(e -> "event " + e.get("index") + " " + e.get("field") + ": " + e.get("message"))
                    .collect(java.util.stream.Collectors.joining("; "));
            throw new InvalidRequestException("The request holds values MongoDB cannot store as sent: " + summary
                                              + (errors.size() > 10 ? "; ... (" + errors.size() + " in all)" : ""),
                    errors);
        }
        return list;
    }

    private static String storable(String text, int index, String field, List<Map<String, Object>> errors) {
        try {
            return PortalJson.requireStorableText(text);
        } catch (PortalJson.NotStorableException e) {
            errors.add(error(index, field, e.getMessage()));
            return text;
        }
    }

    /** One entry of a 400's errors: the event's index, the field and what is wrong with it. */
    static Map<String, Object> error(int index, String field, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("index", index);
        error.put("field", field);
        error.put("message", message);
        return error;
    }

    /**
     * Gives the call its outcome, the exchange property {@link #OUTCOME}, shared by reference with every batch. With an
     * {@code Idempotency-Key} header, batch documents get ids derived from the key, the request and the batch index,
     * so a retry stores nothing twice; a key already used for other events is refused.
     */
    public void newOutcome(Exchange exchange, String database, String collection, int batchSize) throws Exception {
        exchange.setProperty(OUTCOME, outcome(exchange, database, collection, batchSize));
    }

    private EventsOutcome outcome(Exchange exchange, String database, String collection, int batchSize)
            throws Exception {
        List<?> events = exchange.getMessage().getBody(List.class);
        String requestId = RequestIds.stored(exchange);
        if (requestId != null) {
            exchange.setProperty(REQUEST_ID, requestId);
        }
        Long requestBytes = exchange.getProperty(PortalJson.REQUEST_BYTES, Long.class);
        // BSON takes at most about 6 times the bytes of the JSON it comes from (arrays of one-digit numbers): a
        // request below that bound cannot fill a document, and skips encoding every event once more.
        if (requestBytes == null || requestBytes * 8 >= MAX_BATCH_BYTES) {
            requireBatchesFitMongo(events, batchSize);
        }
        String key = Idempotency.keyOf(exchange);
        if (key == null) {
            return new EventsOutcome(events.size(), null, database);
        }
        String prefix = Idempotency.sha256(key).substring(0, 24) + "-";
        String idPrefix = prefix + Idempotency.sha256(mapper.writeValueAsString(events)).substring(0, 24) + "-";
        MongoClient mongo = Idempotency.mongoClient(exchange.getContext());
        Document earlier = mongo == null ? null : mongo.getDatabase(database).getCollection(collection)
                .find(Filters.regex("_id", "^" + prefix)).projection(Projections.include("_id")).first();
        if (earlier != null && !String.valueOf(earlier.get("_id")).startsWith(idPrefix)) {
            throw new IdempotencyConflictException("The Idempotency-Key was already used for other events: send these"
                                                   + " with a new key", Conflict.KEY_REUSED);
        }
        return new EventsOutcome(events.size(), idPrefix, database);
    }

    /** MongoDB stores at most 16 MiB in one document; the envelope of a batch document takes a little of it. */
    static final int MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

    /**
     * Refuses, before anything is stored, a request whose batches (consecutive runs of batchSize events) would not fit
     * in a MongoDB document: the insert would otherwise fail inside MongoDB after earlier batches were stored.
     */
    @SuppressWarnings("unchecked")
    private static void requireBatchesFitMongo(List<?> events, int batchSize) {
        Codec<Document> codec = MongoClientSettings.getDefaultCodecRegistry().get(Document.class);
        long batchBytes = 0;
        for (int i = 0; i < events.size(); i++) {
            if (i % batchSize == 0) {
                batchBytes = 0;
            }
            // the event as a document, plus its array index key and type byte in data
            batchBytes += new RawBsonDocument(new Document((Map<String, Object>) events.get(i)), codec)
                    .getByteBuffer().remaining() + 8;
            if (batchBytes > MAX_BATCH_BYTES) {
                int batch = i / batchSize;
                throw new PayloadTooLargeException("Batch " + batch + " (from event " + batch * batchSize
                                                   + ") would pass " + MAX_BATCH_BYTES + " bytes at event " + i
                                                   + ", more than MongoDB stores in one document (16 MiB):"
                                                   + " send fewer or smaller events");
            }
        }
    }

    /** Exchange property of each event's exchange holding its INFO line after the fixed start ({@link #logged}). */
    public static final String LOG_LINE = "portalEventLogLine";

    /**
     * The split's onPrepare: gives each event's exchange its log line as the property {@link #LOG_LINE}, so that the
     * route's log step reads a property. Computed by a bean call in the log step's expression, the line took a copy of
     * the exchange and a bean invocation per event: about a seventh of the time of an events request.
     */
    public Processor logLine() {
        return exchange -> {
            Object body = exchange.getMessage().getBody();
            if (body instanceof Map<?, ?> event) {
                @SuppressWarnings("unchecked")
                Map<String, Object> fields = (Map<String, Object>) event;
                exchange.setProperty(LOG_LINE, logged(fields));
            }
        };
    }

    /**
     * The per-event INFO line after its fixed start: {@code UserIds: 123,456 Name:trip_completed}, each value escaped
     * and bounded ({@link LogValues}): the caller wrote them.
     */
    @SuppressWarnings("unchecked")
    public String logged(Map<String, Object> event) {
        return "UserIds: " + LogValues.join((List<String>) event.get("userIds")) + " Name:"
               + LogValues.of((String) event.get("eventName"));
    }

    /** For the DEBUG line: eventMeta escaped and bounded like the other values. */
    public String loggedMeta(Map<String, Object> event) {
        return LogValues.of(String.valueOf(event.get("eventMeta")));
    }

    /**
     * The document of one batch, exactly as the incentive system reads it:
     * {@code {action: 'event', data: [events in request order], created_at: <date>}}, plus {@code request_id} when
     * the call had one. The id is chosen here so the caller can be told which document holds its events.
     */
    public Document toDocument(Exchange exchange) {
        List<?> batchEvents = exchange.getMessage().getBody(List.class);
        EventsOutcome outcome = exchange.getProperty(OUTCOME, EventsOutcome.class);
        List<Integer> indexes = exchange.getProperty(EventBatchAggregationStrategy.EVENT_INDEXES, List.class);
        String collection = exchange.getMessage().getHeader(MongoDbConstants.COLLECTION, String.class);
        exchange.setProperty(BATCH, outcome.nextBatch(collection, indexes));
        EventsOutcome.Batch batch = exchange.getProperty(BATCH, EventsOutcome.Batch.class);
        Object id = outcome.idPrefix() == null ? new ObjectId() : outcome.idPrefix() + batch.index();
        Document document = new Document("_id", id);
        document.append("action", "event");
        document.append("data", batchEvents);
        document.append("created_at", new Date());
        String requestId = exchange.getProperty(REQUEST_ID, String.class);
        if (requestId != null) {
            // after the fields the incentive system reads, which it finds as before
            document.append(REQUEST_ID_FIELD, requestId);
        }
        return document;
    }

    /** The duplicate may be on another unique index: only a document with this id proves the batch stored. */
    private static boolean exists(Exchange exchange, EventsOutcome outcome, Object id) {
        MongoClient mongo = Idempotency.mongoClient(exchange.getContext());
        String collection = exchange.getMessage().getHeader(MongoDbConstants.COLLECTION, String.class);
        return mongo != null && mongo.getDatabase(outcome.database()).getCollection(collection)
                .find(Filters.eq("_id", id)).first() != null;
    }

    /**
     * Before a batch is written: once MongoDB did not answer for a batch of this call after every attempt, the later
     * ones are reported as not stored without making the caller wait for each of them in turn.
     */
    public void requireMongoAvailable(Exchange exchange) {
        if (exchange.getProperty(OUTCOME, EventsOutcome.class).isMongoUnavailable()) {
            throw new IllegalStateException("not attempted: MongoDB did not answer for an earlier batch of this request");
        }
    }

    /** MongoDB acknowledged the insert of the batch's document. */
    public void stored(Exchange exchange) {
        EventsOutcome.Batch batch = exchange.getProperty(BATCH, EventsOutcome.Batch.class);
        Object id = exchange.getMessage().getHeader(MongoDbConstants.OID);
        exchange.getProperty(OUTCOME, EventsOutcome.class).stored(batch, id);
        LOG.debug("Stored {} as document {}", batch, id);
    }

    /** The insert failed: the batch is reported as not stored and the next batches are still attempted. */
    public void failed(Exchange exchange) {
        EventsOutcome.Batch batch = exchange.getProperty(BATCH, EventsOutcome.Batch.class);
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        EventsOutcome outcome = exchange.getProperty(OUTCOME, EventsOutcome.class);
        Object id = exchange.getMessage().getBody(Document.class).get("_id");
        if (Idempotency.isDuplicateKey(error) && exists(exchange, outcome, id)) {
            // an earlier attempt (or an earlier request with the same Idempotency-Key) stored this very batch
            outcome.stored(batch, id);
            LOG.info("{} was already stored as document {}", batch, id);
            return;
        }
        if (MongoRetries.mayPass(error)) {
            outcome.mongoUnavailable();
        }
        String message = error == null ? "unknown error" : error.getClass().getSimpleName() + ": " + error.getMessage();
        exchange.getProperty(OUTCOME, EventsOutcome.class).failed(batch, message);
        LOG.warn("Send event Error: {} not stored: {}", batch, message);
    }

    /**
     * Completes, on this thread, every batch of this call still waiting in the route's aggregators: after an edit drops
     * or re-routes the call's last event, its last batch would otherwise wait for an event that never comes. A group is
     * this call's when it carries this call's outcome (the very object, shared by reference with every event split from
     * this exchange), whatever the correlation expression makes of the keys and whatever the exchange ids look like.
     */
    public void flush(Exchange exchange, String routeId) {
        Route route = exchange.getContext().getRoute(routeId);
        EventsOutcome outcome = exchange.getProperty(OUTCOME, EventsOutcome.class);
        if (route == null || outcome == null) {
            return;
        }
        List<AggregateProcessor> aggregators = AGGREGATORS.computeIfAbsent(route,
                r -> List.copyOf(aggregatorsOf(r.navigate(), new ArrayList<>())));
        for (AggregateProcessor aggregator : aggregators) {
            var repository = aggregator.getAggregationRepository();
            for (String key : repository.getKeys()) {
                Exchange group = repository.get(exchange.getContext(), key);
                if (group != null && group.getProperty(OUTCOME) == outcome) {
                    aggregator.forceCompletionOfGroup(key);
                }
            }
        }
    }

    /** The aggregators of each route, found once: a route's processors do not change (a reload makes a new route). */
    private static final Map<Route, List<AggregateProcessor>> AGGREGATORS =
            Collections.synchronizedMap(new WeakHashMap<>());

    @SuppressWarnings("unchecked")
    private static List<AggregateProcessor> aggregatorsOf(Navigate<Processor> node, List<AggregateProcessor> found) {
        if (node != null && node.hasNext()) {
            for (Processor processor : node.next()) {
                if (processor instanceof AggregateProcessor aggregator) {
                    found.add(aggregator);
                }
                if (processor instanceof Navigate<?> children) {
                    aggregatorsOf((Navigate<Processor>) children, found);
                }
            }
        }
        return found;
    }

    /**
     * The reply of the route: {@code {events, documents, ids}} when every event was stored; otherwise an
     * {@link EventsNotStoredException} carrying the whole outcome. No reply is given while a batch of the call is still
     * being stored (an edit that makes the aggregator complete batches on another thread): the call waits for them up
     * to waitMillis, then fails with an {@link EventsPendingException} rather than count them as dropped or stored.
     */
    public Map<String, Object> reply(Exchange exchange, long waitMillis) throws InterruptedException {
        EventsOutcome outcome = exchange.getProperty(OUTCOME, EventsOutcome.class);
        if (!outcome.awaitBatches(waitMillis)) {
            throw new EventsPendingException(outcome, waitMillis);
        }
        if (!outcome.allStored()) {
            throw new EventsNotStoredException(outcome);
        }
        return outcome.toMap();
    }
}
