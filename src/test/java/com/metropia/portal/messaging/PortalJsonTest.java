package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.PortalJson;
import com.metropia.portal.messaging.support.SchemaErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.core.JsonParseException;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Only what the caller sent is blamed on the caller: a parse or schema error is a 400 ({@link InvalidRequestException}),
 * a failure of the service while reading or validating is not, and reaches the HTTP edge as a 500.
 */
class PortalJsonTest {

    private final PortalJson json = new PortalJson(PortalJson.newObjectMapper());

    @Test
    void should_not_blame_the_caller_when_the_body_cannot_be_read() throws Exception {
        try (CamelContext context = new DefaultCamelContext()) {
            Exchange exchange = new DefaultExchange(context);
            exchange.getMessage().setBody(new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("connection reset while reading");
                }
            });

            assertThat(catchThrowable(() -> json.read(exchange))).isInstanceOf(IOException.class)
                    .isNotInstanceOf(InvalidRequestException.class);
        }
    }

    @Test
    void should_blame_the_caller_for_a_body_that_does_not_parse_and_for_a_body_type_that_is_not_json() throws Exception {
        try (CamelContext context = new DefaultCamelContext()) {
            Exchange exchange = new DefaultExchange(context);
            exchange.getMessage().setBody("{\"action\":".getBytes(StandardCharsets.UTF_8));
            assertThat(catchThrowable(() -> json.read(exchange))).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("not valid JSON");

            exchange.getMessage().setBody(new Object());
            assertThat(catchThrowable(() -> json.read(exchange))).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("is not JSON");
        }
    }

    @Test
    void should_answer_400_for_a_parse_error_in_the_validator_and_500_for_anything_else() {
        SchemaErrors errors = new SchemaErrors();

        assertThat(catchThrowable(() -> errors.handleErrors(null, null, new JsonParseException(null, "bad"))))
                .isInstanceOf(InvalidRequestException.class);
        Throwable fault = catchThrowable(() -> errors.handleErrors(null, null,
                new IllegalStateException("schema portal-messaging/schemas/x.json not found")));
        assertThat(fault).isInstanceOf(IllegalStateException.class).isNotInstanceOf(InvalidRequestException.class);
        Throwable checked = catchThrowable(() -> errors.handleErrors(null, null, new IOException("disk")));
        assertThat(checked).isNotInstanceOf(InvalidRequestException.class).hasCauseInstanceOf(IOException.class);
    }

    @Test
    void should_accept_a_utf_8_byte_order_mark_and_every_well_formed_utf_8_sequence() throws Exception {
        try (CamelContext context = new DefaultCamelContext()) {
            Exchange exchange = new DefaultExchange(context);
            byte[] text = "[\"\u00e9\u20ac\ud83d\ude00\uffff\"]".getBytes(StandardCharsets.UTF_8);
            byte[] withBom = new byte[text.length + 3];
            withBom[0] = (byte) 0xef;
            withBom[1] = (byte) 0xbb;
            withBom[2] = (byte) 0xbf;
            System.arraycopy(text, 0, withBom, 3, text.length);
            exchange.getMessage().setBody(withBom);

            assertThat(json.read(exchange).get(0).textValue()).isEqualTo("\u00e9\u20ac\ud83d\ude00\uffff");
        }
    }
}
