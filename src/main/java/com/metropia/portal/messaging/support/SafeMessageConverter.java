package com.metropia.portal.messaging.support;

import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.pattern.ConverterKeys;
import org.apache.logging.log4j.core.pattern.LogEventPatternConverter;
import org.apache.logging.log4j.core.pattern.PatternConverter;
import org.apache.logging.log4j.util.StringBuilderFormattable;

/**
 * {@code %safeMessage{max}} in the service's log pattern: the message as one line of at most {@code max} characters
 * (10,000 by default; a longer one is cut and ends with {@code ...}), CR and LF written as {@code \r} and {@code \n}
 * (no forged lines), every other control character but tab, the line and paragraph separators and the bidirectional
 * controls written as {@code ?} (no ANSI escapes). What {@code %enc{%replace{%maxLen{%m}{max}}{[...]}{?}}{CRLF}} did,
 * in one pass over the message and none over a message that needs nothing: the per-event INFO line is written for
 * every event, and the regular expression was most of its layout's cost.
 */
@Plugin(name = "SafeMessageConverter", category = PatternConverter.CATEGORY)
@ConverterKeys({"safeMessage"})
public final class SafeMessageConverter extends LogEventPatternConverter {

    static final int DEFAULT_MAX = 10_000;

    private final int max;

    private SafeMessageConverter(int max) {
        super("SafeMessage", "safeMessage");
        this.max = max;
    }

    /** Log4j's factory: {@code options[0]}, when given, is the most characters of a message. */
    public static SafeMessageConverter newInstance(Configuration configuration, String[] options) {
        int max = DEFAULT_MAX;
        if (options != null && options.length > 0 && options[0] != null && !options[0].isBlank()) {
            max = Integer.parseInt(options[0].trim());
        }
        return new SafeMessageConverter(max);
    }

    @Override
    public void format(LogEvent event, StringBuilder toAppendTo) {
        int start = toAppendTo.length();
        if (event.getMessage() instanceof StringBuilderFormattable formattable) {
            formattable.formatTo(toAppendTo);
        } else {
            toAppendTo.append(event.getMessage().getFormattedMessage());
        }
        sanitize(toAppendTo, start, max);
    }

    /** Makes the characters from {@code start} on one safe line of at most {@code max} of the original characters. */
    static void sanitize(StringBuilder text, int start, int max) {
        int end = text.length();
        int kept = Math.min(end, start + max);
        int first = start;
        while (first < kept && replacement(text.charAt(first)) == 0) {
            first++;
        }
        if (first == kept) {
            // nothing to escape: only the length to bound
            if (kept < end) {
                text.setLength(kept);
                if (max > 20) {
                    text.append("...");
                }
            }
            return;
        }
        String rest = text.substring(first, kept);
        text.setLength(first);
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            char replacement = replacement(c);
            if (replacement == 0) {
                text.append(c);
            } else if (replacement == '?') {
                text.append('?');
            } else {
                text.append('\\').append(replacement);
            }
        }
        if (kept < end && max > 20) {
            text.append("...");
        }
    }

    /** 0 for a character written as it is, {@code r} or {@code n} for CR and LF, {@code ?} for the others. */
    private static char replacement(char c) {
        if (c >= 0x20 && c < 0x7F) {
            return 0;
        }
        if (c == '\r') {
            return 'r';
        }
        if (c == '\n') {
            return 'n';
        }
        if (c == '\t') {
            return 0;
        }
        // the other C0 and C1 controls, the line and paragraph separators, the bidirectional controls
        if (c <= 0x9F || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E)
            || (c >= 0x2066 && c <= 0x2069)) {
            return '?';
        }
        return 0;
    }
}
