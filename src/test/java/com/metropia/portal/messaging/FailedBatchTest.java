package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.CamelExecutionException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A batch MongoDB did not store reaches the caller: never a reply that says stored. In events.camel.yaml each batch's
 * insert is tried in a doTry whose doCatch records the failure in the call's outcome, and the reply (which waits for
 * batches still being stored) throws EventsNotStoredException when a batch failed; Camel's aggregator alone would only
 * log a failed insert. (That batches run on the caller's thread, the aggregate's executorService, is
 * CallerThreadBatchesTest's.)
 */
class FailedBatchTest extends RouteTestSupport {

    /** What to look at when these tests fail. */
    private static final String WHAT_BROKE = "; in events.camel.yaml a failed insert must reach the call's outcome (the"
                                             + " doCatch calling portalEvents failed) and the reply must report it"
                                             + " (portalEvents reply)";

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    protected boolean withHttp() {
        return true;
    }

    @Override
    protected Map<String, String> properties() {
        // a MongoDB where nothing listens, tried once, for a short while
        return Map.of("portal.mongodb.uri",
                "mongodb://127.0.0.1:" + PortalService.freePort() + "/?serverSelectionTimeoutMS=300",
                "portal.mongodb.max-attempts", "1");
    }

    @Test
    void a_failed_batch_reaches_the_caller_of_direct_events_as_events_not_stored() {
        Throwable thrown = catchThrowable(() -> template.requestBody("direct:events", events(3, "unstored")));

        assertThat(thrown).as("a call of direct:events whose only batch MongoDB did not store must fail" + WHAT_BROKE)
                .isInstanceOf(CamelExecutionException.class)
                .cause().as("the cause of the failed call" + WHAT_BROKE).isInstanceOf(EventsNotStoredException.class);
        EventsNotStoredException notStored = (EventsNotStoredException) thrown.getCause();
        assertThat(notStored.getOutcome().events()).as("events of the call").isEqualTo(3);
        assertThat(notStored.getOutcome().storedEvents()).as("events stored").isZero();
        assertThat(notStored.getOutcome().failures()).as("failed batches of the call").singleElement()
                .satisfies(failure -> assertThat(failure).containsEntry("firstEvent", 0).containsEntry("lastEvent", 2));
        assertThat(sendEvent().countDocuments()).as("documents in the emulator's send_event").isZero();
    }

    @Test
    void a_failed_batch_reaches_the_http_caller_as_503_naming_the_batch() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(httpRequest("/api/events")
                        .timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(events(3, "unstored"))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode())
                .as("the HTTP status of a request whose only batch MongoDB did not store (body %s)%s",
                        response.body(), WHAT_BROKE)
                .isEqualTo(503);
        JsonNode problem = JSON.readTree(response.body());
        assertThat(problem.path("storedEvents").asInt(-1)).as("storedEvents of the answer %s", response.body()).isZero();
        assertThat(problem.path("failedBatches")).as("failedBatches of the answer %s", response.body()).hasSize(1);
        assertThat(sendEvent().countDocuments()).as("documents in the emulator's send_event").isZero();
    }
}
