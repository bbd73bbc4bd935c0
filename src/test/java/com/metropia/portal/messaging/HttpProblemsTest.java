package com.metropia.portal.messaging;

import com.metropia.portal.messaging.config.PortalDefaults;
import com.metropia.portal.messaging.http.HttpProblems;
import com.metropia.portal.messaging.support.PortalJson;
import java.net.SocketException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.MongoSocketWriteException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.ServerAddress;
import org.apache.logging.log4j.Level;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The status of a failure no route clause names: Camel picks the clause for the innermost cause, so a MongoDB or SQS
 * failure caused by a broken socket reaches the catch-all, and must still tell the caller to retry.
 */
class HttpProblemsTest {

    private final HttpProblems problems = new HttpProblems(PortalJson.newObjectMapper());

    @Test
    void should_answer_503_for_a_mongodb_failure_caused_by_a_broken_socket() {
        Exception failure = new MongoSocketWriteException("Exception sending message", new ServerAddress(),
                new SocketException("Connection reset"));

        assertThat(problems.statusOf(failed(new IllegalStateException("wrapped", failure)))).isEqualTo(503);
    }

    @Test
    void should_answer_500_for_a_failure_of_the_service_itself() {
        assertThat(problems.statusOf(failed(new NullPointerException()))).isEqualTo(500);
    }

    @Test
    void should_answer_503_in_plain_words_and_log_the_driver_details_under_the_request_id() throws Exception {
        Exchange exchange = failed(new MongoTimeoutException("Timed out while waiting for a server. Client view of"
                                                             + " cluster state is {type=UNKNOWN, servers=[{address="
                                                             + "db.internal:27017, type=UNKNOWN}]"));
        exchange.getMessage().setHeader("X-Request-Id", "req-503");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 503);

        try (CapturedLogs logs = CapturedLogs.of(HttpProblems.class.getName(), Level.WARN)) {
            problems.problem(exchange);

            JsonNode problem = new ObjectMapper().readTree(exchange.getMessage().getBody(String.class));
            assertThat(problem.get("detail").asText()).isEqualTo(
                    "Nothing was done: a service behind the API did not answer; retry");
            assertThat(problem.get("requestId").asText()).isEqualTo("req-503");
            assertThat(exchange.getMessage().getBody(String.class)).doesNotContain("db.internal")
                    .doesNotContain("cluster state");
            assertThat(exchange.getMessage().getHeader("X-Request-Id")).isEqualTo("req-503");
            assertThat(logs.lines()).singleElement().asString().startsWith("WARN Request req-503: answered 503")
                    .contains("db.internal:27017");
        }
    }

    @Test
    void should_answer_500_without_naming_the_exception_and_log_it_at_error() throws Exception {
        Exchange exchange = failed(new NullPointerException("Cannot invoke \"String.length()\" because \"secret\" is null"));
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 500);

        try (CapturedLogs logs = CapturedLogs.of(HttpProblems.class.getName(), Level.WARN)) {
            problems.problem(exchange);

            JsonNode problem = new ObjectMapper().readTree(exchange.getMessage().getBody(String.class));
            String requestId = problem.get("requestId").asText();
            assertThat(requestId).matches("[0-9a-f-]{36}");
            assertThat(problem.get("detail").asText()).isEqualTo("Internal error. Nothing is known to be stored");
            assertThat(exchange.getMessage().getBody(String.class)).doesNotContain("NullPointer").doesNotContain("secret");
            assertThat(logs.lines()).singleElement().asString()
                    .startsWith("ERROR Request " + requestId + ": answered 500").contains("NullPointerException");
        }
    }

    private static Exchange failed(Exception error) {
        // with the defaults, as the route files give them to any context that includes them (PortalMessagingBeans)
        DefaultCamelContext context = new DefaultCamelContext();
        PortalDefaults.addTo(context.getPropertiesComponent());
        Exchange exchange = new DefaultExchange(context);
        exchange.setProperty(Exchange.EXCEPTION_CAUGHT, error);
        return exchange;
    }
}
