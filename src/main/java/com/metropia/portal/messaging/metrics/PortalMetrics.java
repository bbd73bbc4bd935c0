package com.metropia.portal.messaging.metrics;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

import com.metropia.portal.messaging.events.EventsOutcome;
import com.metropia.portal.messaging.events.IncentiveEvents;
import com.metropia.portal.messaging.tasks.TaskBatches;
import com.metropia.portal.messaging.tasks.TaskFallback;
import com.metropia.portal.messaging.health.PortalHealthChecks;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.CamelContext;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.StartupListener;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.bson.Document;

/**
 * The service's own metrics, beside Camel's, named {@code portal_*} on {@code /observe/metrics}. They are read off
 * Camel's exchange events, keyed on the routes' endpoints and exchange properties, so the routes and their beans do
 * not carry metrics code: a send to an {@code aws2-sqs} endpoint is an SQS call, one to {@code mongodb} a MongoDB
 * call, an exchange of an {@code http-*} route an HTTP request, and an exchange carrying an events outcome a call of
 * the events route (over HTTP or from Java).
 */
public final class PortalMetrics extends EventNotifierSupport {

    private static final String HTTP_ROUTE_PREFIX = "http-";
    /**
     * Registry name of the hook the HTTP server's own answers (401, 404, 413, 503 before any route) are counted with:
     * a plain {@link IntConsumer} of the status, so that the server needs no Micrometer class when there is none.
     */
    public static final String REFUSED_HOOK = "portalHttpRefusedCounter";

    private final Supplier<MeterRegistry> registry;
    private final Supplier<OptionalLong> fallbackDepth;
    private final Supplier<OptionalLong> deadLetters;
    private volatile Meters meters;

    public PortalMetrics(Supplier<MeterRegistry> registry, Supplier<OptionalLong> fallbackDepth,
                         Supplier<OptionalLong> deadLetters) {
        this.registry = registry;
        this.fallbackDepth = fallbackDepth;
        this.deadLetters = deadLetters;
        setIgnoreCamelContextEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        // Camel reports a send as sent only when a notifier took its sending event: the sending events stay on
        setIgnoreExchangeSendingEvents(false);
        setIgnoreExchangeRedeliveryEvents(true);
    }

    /** Only where Micrometer is on the class path: the stand-alone service has it, a host application may not. */
    public static void install(CamelContext context) {
        PortalMetrics metrics = new PortalMetrics(
                () -> context.getRegistry().findSingleByType(MeterRegistry.class),
                () -> PortalHealthChecks.fallbackDepth(context), () -> PortalHealthChecks.deadLetters(context));
        context.getManagementStrategy().addEventNotifier(metrics);
        context.getRegistry().bind(REFUSED_HOOK, IntConsumer.class, (IntConsumer) metrics::refused);
        // the meters exist from the start, not from the first exchange: a scrape before any request shows them at 0
        try {
            context.addStartupListener(new StartupListener() {
                @Override
                public void onCamelContextStarted(CamelContext started, boolean alreadyStarted) {
                    // the registry of camel-micrometer is bound once the context runs
                }

                @Override
                public void onCamelContextFullyStarted(CamelContext started, boolean alreadyStarted) {
                    metrics.meters();
                }
            });
        } catch (Exception e) {
            throw RuntimeCamelException.wrapRuntimeCamelException(e);
        }
    }

    /** A request the HTTP server answered itself, before any route (which {@code portal.http.requests} counts). */
    public void refused(int status) {
        Meters found = meters();
        if (found != null) {
            found.refused.computeIfAbsent(status, code -> Counter.builder("portal.http.refused")
                    .description("Requests the HTTP server answered before any route (no API key, no such path, ...)")
                    .tag("status", String.valueOf(code)).register(found.registry)).increment();
        }
    }

    @Override
    public void notify(CamelEvent event) {
        Meters found = meters();
        if (found == null) {
            return;
        }
        if (event instanceof CamelEvent.ExchangeSentEvent sent) {
            sent(found, sent.getEndpoint(), sent.getExchange(), sent.getTimeTaken());
        } else if (event instanceof CamelEvent.ExchangeCompletedEvent || event instanceof CamelEvent.ExchangeFailedEvent) {
            completed(found, ((CamelEvent.ExchangeEvent) event).getExchange());
        }
    }

    private Meters meters() {
        if (meters == null) {
            MeterRegistry found = registry.get();
            if (found != null) {
                // the depth is read when Prometheus scrapes, from the readiness check's cached answer
                Gauge.builder("portal.task.fallback.depth", fallbackDepth,
                                depth -> depth.get().isPresent() ? depth.get().getAsLong() : Double.NaN)
                        .description("Tasks waiting in the fallback collection for SQS (NaN while MongoDB does not answer)")
                        .strongReference(true)
                        .register(found);
                Gauge.builder("portal.task.dead.letters", deadLetters,
                                count -> count.get().isPresent() ? count.get().getAsLong() : Double.NaN)
                        .description("Tasks SQS would not take, in the dead-letter collection (NaN while MongoDB does"
                                     + " not answer)")
                        .strongReference(true)
                        .register(found);
                meters = new Meters(found);
            }
        }
        return meters;
    }

    /**
     * The meters, each registered once (the counters from the start, so an alert on one sees 0, not "no data",
     * before it counts) and kept: registering again for every exchange looked each one up in the registry by its name
     * and tags, a few microseconds per task and per event request.
     */
    private static final class Meters {
        final MeterRegistry registry;
        final Counter tasksSent;
        final Counter tasksKept;
        final Counter tasksRedriven;
        final Counter eventsReceived;
        final Counter eventsStored;
        final Counter eventsRejected;
        final Counter batchesStored;
        final Counter batchesFailed;
        final Timer sqsOk;
        final Timer sqsError;
        final Timer mongodbOk;
        final Timer mongodbError;
        final DistributionSummary batchSize;
        /** {@code portal.http.requests} by route and status, as they come. */
        final Map<String, Timer> httpRequests = new ConcurrentHashMap<>();
        final Map<Integer, Counter> refused = new ConcurrentHashMap<>();

        Meters(MeterRegistry registry) {
            this.registry = registry;
            tasksSent = counter(registry, "portal.tasks.sent", "Tasks SQS acknowledged");
            tasksKept = counter(registry, "portal.tasks.kept", "Tasks SQS did not take, kept in the fallback collection");
            tasksRedriven = counter(registry, "portal.tasks.redriven", "Tasks moved from the fallback collection to SQS");
            eventsReceived = counter(registry, "portal.events.received", "Events in requests that passed validation");
            eventsStored = counter(registry, "portal.events.stored", "Events in documents MongoDB acknowledged");
            eventsRejected = counter(registry, "portal.events.rejected.requests",
                    "Requests of events refused as invalid (400)");
            batchesStored = batches(registry, "stored");
            batchesFailed = batches(registry, "failed");
            sqsOk = sqsCalls(registry, "ok");
            sqsError = sqsCalls(registry, "error");
            mongodbOk = mongodbCalls(registry, "ok");
            mongodbError = mongodbCalls(registry, "error");
            batchSize = DistributionSummary.builder("portal.event.batch.size").description("Events in each stored document")
                    .register(registry);
        }

        private static Counter batches(MeterRegistry registry, String outcome) {
            return Counter.builder("portal.event.batches").description("Documents of events, by outcome")
                    .tag("outcome", outcome).register(registry);
        }

        private static Timer sqsCalls(MeterRegistry registry, String outcome) {
            return Timer.builder("portal.sqs.calls").description("Calls to SQS that send a task, retries included")
                    .tag("outcome", outcome).register(registry);
        }

        private static Timer mongodbCalls(MeterRegistry registry, String outcome) {
            return Timer.builder("portal.mongodb.calls")
                    .description("Writes of events and of kept tasks to MongoDB, each attempt")
                    .tag("outcome", outcome).register(registry);
        }

        Timer httpRequests(String endpoint, int status) {
            return httpRequests.computeIfAbsent(endpoint + ' ' + status, key ->
                    Timer.builder("portal.http.requests").description("HTTP requests answered by the API's routes")
                            .tag("endpoint", endpoint).tag("status", String.valueOf(status)).register(registry));
        }
    }

    private static void sent(Meters meters, Endpoint endpoint, Exchange exchange, long millis) {
        String uri = endpoint.getEndpointUri();
        boolean ok = exchange.getException() == null;
        if (uri.startsWith("aws2-sqs:")) {
            (ok ? meters.sqsOk : meters.sqsError).record(millis, TimeUnit.MILLISECONDS);
            if (ok) {
                boolean redrive = exchange.getProperty(TaskFallback.FALLBACK_ID) != null;
                (redrive ? meters.tasksRedriven : meters.tasksSent).increment();
            }
        } else if (uri.startsWith("mongodb:")) {
            (ok ? meters.mongodbOk : meters.mongodbError).record(millis, TimeUnit.MILLISECONDS);
            if (!ok) {
                return;
            }
            Object written = exchange.getMessage().getBody();
            // a kept task's document, by its shape (the sender's exchange properties do not all reach this event)
            if (written instanceof Document kept && kept.containsKey("taskId") && kept.containsKey("queueUrl")
                && exchange.getProperty(TaskFallback.FALLBACK_ID) == null) {
                meters.tasksKept.increment();
            }
            if (written instanceof Document document && "event".equals(document.get("action"))
                && document.get("data") instanceof List<?> events) {
                meters.batchSize.record(events.size());
            }
        }
    }

    private static void completed(Meters meters, Exchange exchange) {
        // the split's children and the batches made of them complete too, carrying the request's properties: only
        // the request's own exchange, which no EIP made out of another, counts
        if (exchange.getProperty(Exchange.CORRELATION_ID) != null) {
            return;
        }
        EventsOutcome outcome = exchange.getProperty(IncentiveEvents.OUTCOME, EventsOutcome.class);
        if (outcome != null) {
            meters.eventsReceived.increment(outcome.events());
            meters.eventsStored.increment(outcome.storedEvents());
            meters.batchesStored.increment(outcome.ids().size());
            meters.batchesFailed.increment(outcome.failures().size());
        }
        // a batch of tasks is sent from a bean (SendMessageBatch), not through an aws2-sqs endpoint: counted per task
        TaskBatches.Outcome batch = exchange.getProperty(TaskBatches.OUTCOME, TaskBatches.Outcome.class);
        if (batch != null) {
            meters.tasksSent.increment(batch.sent());
            meters.tasksKept.increment(batch.kept());
            for (long[] call : batch.calls()) {
                (call[1] == 1 ? meters.sqsOk : meters.sqsError).record(call[0], TimeUnit.NANOSECONDS);
            }
            for (long[] insert : batch.keeps()) {
                (insert[1] == 1 ? meters.mongodbOk : meters.mongodbError).record(insert[0], TimeUnit.NANOSECONDS);
            }
        }
        String route = exchange.getFromRouteId();
        if (route != null && route.startsWith(HTTP_ROUTE_PREFIX)) {
            Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
            if (status == null) {
                status = exchange.isFailed() ? 500 : 200;
            }
            if (route.equals("http-events") && status == 400) {
                meters.eventsRejected.increment();
            }
            meters.httpRequests(route.substring(HTTP_ROUTE_PREFIX.length()), status)
                    .record(Duration.ofMillis(exchange.getClock().elapsed()));
        }
    }

    private static Counter counter(MeterRegistry meters, String name, String description) {
        return Counter.builder(name).description(description).register(meters);
    }
}
