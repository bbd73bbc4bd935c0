package com.metropia.portal.messaging;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.camel.builder.AdviceWith;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each call's batches are stored on the caller's own thread (the aggregate's executorService in events.camel.yaml):
 * a call whose insert is slow, or waits for MongoDB to come back, never holds up the batches of other calls. Without
 * that executorService Camel's aggregator stores every call's batches one after the other on a thread of its own.
 */
class CallerThreadBatchesTest extends RouteTestSupport {

    @Override
    public boolean isUseAdviceWith() {
        return true;
    }

    @Test
    void should_store_the_batch_of_one_call_while_the_insert_of_another_call_is_held() throws Exception {
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch otherStored = new CountDownLatch(1);
        AtomicBoolean heldUntilOtherStored = new AtomicBoolean();
        // the insert of the batch whose first event is named "held" waits until the other call has its reply
        AdviceWith.adviceWith(context, "event-batch-insert", false, advice -> advice.weaveByToUri(MONGODB).before()
                .filter().simple("${body[data][0][eventName]} == 'held'")
                .process(exchange -> {
                    holding.countDown();
                    heldUntilOtherStored.set(otherStored.await(20, TimeUnit.SECONDS));
                }));
        context.start();

        CompletableFuture<Map<?, ?>> held = CompletableFuture.supplyAsync(() -> template.requestBody("direct:events",
                events(3, "held").replace("trip_completed", "held"), Map.class));
        assertThat(holding.await(60, TimeUnit.SECONDS)).as("the held call's insert started").isTrue();
        Map<?, ?> other = template.requestBody("direct:events", events(2, "other"), Map.class);
        otherStored.countDown();

        Map<?, ?> heldReply = held.get(60, TimeUnit.SECONDS);

        assertThat(other.get("documents")).as("documents stored for the other call").isEqualTo(1);
        assertThat(heldReply.get("documents")).as("documents stored for the held call").isEqualTo(1);
        assertThat(heldUntilOtherStored.get())
                .as("the other call was answered while the held call's insert waited; if not, its batch waited for"
                    + " the held one: the aggregate of events.camel.yaml must run each batch on the caller's thread"
                    + " (executorService: \"#portalSynchronousExecutor\")")
                .isTrue();
        assertThat(storedBatchSizes()).as("events per stored document").containsExactlyInAnyOrder(2, 3);
    }
}
