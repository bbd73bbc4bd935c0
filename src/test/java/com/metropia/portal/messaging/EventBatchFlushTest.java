package com.metropia.portal.messaging;

import com.metropia.portal.messaging.events.EventBatchAggregationStrategy;
import com.metropia.portal.messaging.events.EventsOutcome;
import com.metropia.portal.messaging.events.IncentiveEvents;
import com.metropia.portal.messaging.support.PortalJson;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.util.concurrent.SynchronousExecutorService;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The flush after the split completes the groups of its own call only: exchange ids end in a counter, so the id of
 * call "…-1" is a prefix of call "…-10", whose group must keep waiting for the rest of its events.
 */
class EventBatchFlushTest {

    @Test
    void should_flush_only_the_groups_of_its_own_call_when_another_call_id_starts_with_it() throws Exception {
        List<List<?>> completed = new CopyOnWriteArrayList<>();
        try (CamelContext context = new DefaultCamelContext()) {
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:batch").routeId("batcher")
                            .aggregate(simple("${exchangeProperty.CamelCorrelationId}/send_event"),
                                    new EventBatchAggregationStrategy())
                            .completionSize(500)
                            // as in the events route: a completed group runs on the thread that completes it
                            .executorService(new SynchronousExecutorService())
                            .process(batch -> completed.add(batch.getMessage().getBody(List.class)));
                }
            });
            context.start();
            Exchange call = new DefaultExchange(context);
            call.setExchangeId("ID-host-1");
            call.setProperty(IncentiveEvents.OUTCOME, new EventsOutcome(1, null, "portal"));
            for (String id : List.of("ID-host-1", "ID-host-10", "ID-host-11")) {
                // as the splitter makes them: the call's id as correlation id, the call's properties shared
                Exchange event = new DefaultExchange(context);
                event.setProperty(Exchange.CORRELATION_ID, id);
                event.setProperty(IncentiveEvents.OUTCOME, id.equals(call.getExchangeId())
                        ? call.getProperty(IncentiveEvents.OUTCOME) : new EventsOutcome(1, null, "portal"));
                event.setProperty(Exchange.SPLIT_INDEX, 0);
                event.getMessage().setBody("event of " + id);
                context.createProducerTemplate().send("direct:batch", event);
            }

            new IncentiveEvents(PortalJson.newObjectMapper()).flush(call, "batcher");

            assertThat(completed).containsExactly(List.of("event of ID-host-1"));
        }
    }
}
