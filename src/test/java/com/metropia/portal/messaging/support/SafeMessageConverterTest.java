package com.metropia.portal.messaging.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.ParameterizedMessage;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

/** The message of a line in the service's text log: one line, no control characters, bounded. */
class SafeMessageConverterTest {

    private final SafeMessageConverter converter = SafeMessageConverter.newInstance(null, new String[] {"10000"});

    @Test
    void should_leave_a_plain_message_as_it_is() {
        assertThat(format("Send incentive event UserIds: 1,2 Name:trip_completed\tdone é ✓"))
                .isEqualTo("prefix Send incentive event UserIds: 1,2 Name:trip_completed\tdone é ✓");
    }

    @Test
    void should_write_cr_and_lf_escaped_and_other_control_characters_as_question_marks() {
        assertThat(format("a\r\nb\n2026-11-27 ERROR FAKE")).isEqualTo("prefix a\\r\\nb\\n2026-11-27 ERROR FAKE");
        assertThat(format("\u001b[31mred\u0007\u0000\u007f\u0085\u009f\u00a0\u2028\u2029\u202a\u202e\u2066\u2069\u206a"))
                .isEqualTo("prefix ?[31mred?????\u00a0??????\u206a");
    }

    @Test
    void should_cut_a_long_message_at_the_limit_and_say_so() {
        assertThat(format("x".repeat(10_000))).isEqualTo("prefix " + "x".repeat(10_000));
        assertThat(format("x".repeat(1_000_000))).isEqualTo("prefix " + "x".repeat(10_000) + "...");
        // the limit counts the message's own characters, before escaping
        assertThat(format("\n".repeat(10_001))).isEqualTo("prefix " + "\\n".repeat(10_000) + "...");
    }

    @Test
    void should_format_a_parameterized_message_in_place() {
        StringBuilder line = new StringBuilder("prefix ");
        converter.format(Log4jLogEvent.newBuilder().setLevel(Level.INFO)
                .setMessage(new ParameterizedMessage("Request {}: answered {}", "id\r\n1", 503)).build(), line);

        assertThat(line).hasToString("prefix Request id\\r\\n1: answered 503");
    }

    private String format(String message) {
        StringBuilder line = new StringBuilder("prefix ");
        converter.format(Log4jLogEvent.newBuilder().setLevel(Level.INFO).setMessage(new SimpleMessage(message)).build(),
                line);
        return line.toString();
    }
}
