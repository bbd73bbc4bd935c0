package com.metropia.portal.messaging;

import java.net.SocketException;

import com.mongodb.MongoSocketWriteException;
import com.mongodb.ServerAddress;
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

    private static Exchange failed(Exception error) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(Exchange.EXCEPTION_CAUGHT, error);
        return exchange;
    }
}
