package com.metropia.portal.messaging;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * On shutdown the request in flight gets its whole answer, and a new one gets 503 with Retry-After, never a reset.
 */
class GracefulShutdownTest {

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void should_finish_the_request_in_flight_and_answer_503_to_new_ones_while_stopping() throws Exception {
        Map<String, String> properties = PortalService.emulatorProperties(emulators,
                emulators.createQueue("shutdown"), "portal_shutdown");
        // a MongoDB that never answers keeps the first request in flight for 3 s
        properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + PortalService.freePort() + "/?serverSelectionTimeoutMS=3000");
        PortalService service = PortalService.start(properties);
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(request(service),
                HttpResponse.BodyHandlers.ofString());
        // the request itself, not the redrive timer (also held up by the silent MongoDB)
        await().atMost(Duration.ofSeconds(5)).until(() -> service.context().getInflightRepository().size("http-events") > 0);

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(service::close);
        await().atMost(Duration.ofSeconds(5)).until(() -> service.context().isStopping());
        HttpResponse<String> during = http.send(request(service), HttpResponse.BodyHandlers.ofString());

        assertThat(during.statusCode()).as(during.body()).isEqualTo(503);
        assertThat(during.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(during.body()).contains("shutting down");
        assertThat(during.headers().firstValue("X-Request-Id")).hasValueSatisfying(id ->
                assertThat(during.body()).contains("\"requestId\":\"" + id + "\""));
        HttpResponse<String> first = inFlight.get();
        assertThat(first.statusCode()).as("the request in flight got its answer").isEqualTo(503);
        assertThat(first.body()).contains("\"storedEvents\":0");
        stopping.get();
    }

    private static HttpRequest request(PortalService service) {
        return service.request("/api/events")
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "[{\"userIds\":[\"1\"],\"eventName\":\"trip_completed\",\"eventMeta\":{}}]"))
                .build();
    }
}
