package com.metropia.portal.messaging.support;

import java.util.List;

/**
 * Caller values as they may appear in a log line: a line break, an ANSI escape or any other control character would
 * let a caller forge lines or repaint a terminal, and a megabyte of text would become a megabyte of log. Control
 * characters are written as escapes ({@code \n}, {@code \u001b}) and a value is cut to a bounded length, saying how
 * long it was. The log layout escapes and bounds every line as well; this keeps the values readable and the work
 * small where a line runs once per event.
 */
public final class LogValues {

    /** Characters of one value in a log line, before it is cut. */
    public static final int MAX_VALUE_CHARS = 200;

    private LogValues() {
    }

    /** The value, escaped, cut at {@link #MAX_VALUE_CHARS}. */
    public static String of(String value) {
        if (value == null) {
            return "null";
        }
        if (value.length() <= MAX_VALUE_CHARS && isPlain(value)) {
            return value;
        }
        return append(new StringBuilder(), value, MAX_VALUE_CHARS).toString();
    }

    /** The value with its control characters escaped, whatever its length. */
    public static String escape(String value) {
        if (isPlain(value)) {
            return value;
        }
        return append(new StringBuilder(value.length() + 16), value, Integer.MAX_VALUE).toString();
    }

    /**
     * The values joined with commas, each escaped, the whole cut at {@link #MAX_VALUE_CHARS} characters, saying how
     * many values there were: {@code 1,2,3,... (5000 values)}.
     */
    public static String join(List<?> values) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            if (line.length() >= MAX_VALUE_CHARS) {
                return line.append("... (").append(values.size()).append(" values)").toString();
            }
            if (i > 0) {
                line.append(',');
            }
            append(line, String.valueOf(values.get(i)), Math.max(1, MAX_VALUE_CHARS - line.length()));
        }
        return line.toString();
    }

    /** Nothing to escape: no control, line-separator or bidirectional-override character, no unpaired surrogate. */
    static boolean isPlain(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c >= 0x7f && needsEscape(value, i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean needsEscape(String value, int i) {
        char c = value.charAt(i);
        if (c < 0x20 || c >= 0x7f && c <= 0x9f) {
            return true;
        }
        if (c == '\u2028' || c == '\u2029' || c >= '\u202a' && c <= '\u202e' || c >= '\u2066' && c <= '\u2069') {
            return true;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1));
        }
        return Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(value.charAt(i - 1)));
    }

    /** Appends the value escaped, at most max characters of it, then "... (N chars)" if it was longer. */
    private static StringBuilder append(StringBuilder line, String value, int max) {
        int end = Math.min(value.length(), max);
        for (int i = 0; i < end; i++) {
            char c = value.charAt(i);
            if (!needsEscape(value, i)) {
                line.append(c);
            } else if (c == '\n') {
                line.append("\\n");
            } else if (c == '\r') {
                line.append("\\r");
            } else if (c == '\t') {
                line.append("\\t");
            } else {
                line.append(String.format("\\u%04x", (int) c));
            }
        }
        if (value.length() > max) {
            line.append("... (").append(value.length()).append(" chars)");
        }
        return line;
    }
}
