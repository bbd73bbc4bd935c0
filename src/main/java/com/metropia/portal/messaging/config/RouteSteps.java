package com.metropia.portal.messaging.config;

import com.metropia.portal.messaging.events.EventTypeSchemas;
import com.metropia.portal.messaging.events.EventsOutcome;
import com.metropia.portal.messaging.events.IncentiveEvents;
import com.metropia.portal.messaging.http.HttpProblems;
import com.metropia.portal.messaging.http.RequestIds;
import com.metropia.portal.messaging.support.Idempotency;
import com.metropia.portal.messaging.support.JsonSchemas;
import com.metropia.portal.messaging.support.PortalJson;
import com.metropia.portal.messaging.tasks.PortalTasks;
import com.metropia.portal.messaging.tasks.TaskBatches;
import com.metropia.portal.messaging.tasks.TaskKeys;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.ExchangeHelper;

/**
 * The steps of the routes' hot paths that YAML cannot express, bound as processors ({@code - process: {ref: ...}}).
 * <p>
 * Written as bean calls, each cost far more than its work: Camel's bean language ({@code setBody: method:}, a
 * {@code method:} predicate, {@code ${body[field]}}) copies the exchange and builds a bean processor on every call,
 * and a {@code bean:} step sets a header, looks its method up and binds its arguments by reflection, parsing the
 * parameters written in the route again each time. In a profile of single tasks and of one-event requests that was a
 * fifth of the service's CPU, for steps whose own work took a twentieth (README, "Where the time goes"). The beans
 * behind these steps stay bound under their names, for edits and host applications that call them.
 */
final class RouteSteps {

    private static final String EVENTS_SCHEMA = "portal-messaging/schemas/events.schema.json";

    private RouteSteps() {
    }

    static void bind(Registry registry, PortalJson json, PortalTasks tasks, TaskKeys taskKeys, TaskBatches batches,
                     JsonSchemas schemas, EventTypeSchemas eventTypes, IncentiveEvents events, HttpProblems http) {
        // the HTTP API
        step(registry, "portalRequireJsonPost", http::requireJsonPost);
        step(registry, "portalTasksHttpStatus",
                exchange -> exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, batches.httpStatus(exchange)));
        step(registry, "portalEventsHttpStatus", exchange -> exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE,
                exchange.getMessage().getBody() instanceof Map<?, ?> reply
                && reply.get(EventsOutcome.DOCUMENTS) instanceof Number documents && documents.intValue() > 0 ? 201 : 200));
        step(registry, "portalKeepKeyAndRequestId", exchange -> exchange.getMessage().getHeaders().keySet()
                .removeIf(name -> !name.equalsIgnoreCase(Idempotency.HEADER)
                                  && !name.equalsIgnoreCase(RequestIds.HEADER)));
        // both routes
        step(registry, "portalReadJson", exchange -> exchange.getMessage().setBody(json.read(exchange)));
        // tasks
        step(registry, "portalReadTask", exchange -> exchange.getMessage().setBody(json.readTask(exchange)));
        step(registry, "portalValidateTask", exchange -> schemas.validate(exchange, TaskBatches.TASK_SCHEMA));
        step(registry, "portalTaskMessageBody", exchange -> exchange.getMessage()
                .setBody(tasks.toMessageBody(exchange.getMessage().getBody(JsonNode.class))));
        step(registry, "portalReserveTaskKey", taskKeys::reserve);
        step(registry, "portalAssignTaskId", tasks::assignTaskId);
        step(registry, "portalTaskReply", exchange -> exchange.getMessage().setBody(tasks.reply(exchange)));
        step(registry, "portalTaskKeySent", taskKeys::sent);
        // arrays of tasks
        step(registry, "portalTaskBatchMessages", exchange -> exchange.getMessage().setBody(batches.toMessages(exchange)));
        step(registry, "portalAssignTaskIds", batches::assignTaskIds);
        // events
        step(registry, "portalValidateEvents", exchange -> schemas.validate(exchange, EVENTS_SCHEMA));
        step(registry, "portalValidateEventTypes",
                exchange -> eventTypes.validate(exchange.getMessage().getBody(JsonNode.class)));
        step(registry, "portalToEvents", exchange -> exchange.getMessage()
                .setBody(events.toEvents(exchange.getMessage().getBody(JsonNode.class))));
        step(registry, "portalEventsDocument", exchange -> exchange.getMessage().setBody(events.toDocument(exchange)));
        step(registry, "portalRequireMongoAvailable", events::requireMongoAvailable);
        step(registry, "portalEventsStored", events::stored);
        step(registry, "portalEventsFlush", exchange -> events.flush(exchange, ExchangeHelper.getRouteId(exchange)));
    }

    private static void step(Registry registry, String name, Processor processor) {
        registry.bind(name, Processor.class, processor);
    }
}
