package com.metropia.portal.messaging.support;

import com.metropia.portal.messaging.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import org.apache.camel.Exchange;

/**
 * Reads request bodies into JSON trees, whatever form a caller hands them in (HTTP bytes, a JSON string, or Java
 * maps and lists from an embedding application).
 */
public class PortalJson {

    /** Exchange property: an upper bound of the size of the request as JSON text, in bytes, when it came as text. */
    public static final String REQUEST_BYTES = "portalRequestBytes";

    private final ObjectMapper mapper;

    public PortalJson(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * Strict parsing: a duplicated key or trailing garbage is an error rather than a silent pick. Decimals stay
     * {@code BigDecimal} so a task's data reaches SQS with the digits the caller sent.
     */
    public static ObjectMapper newObjectMapper() {
        return new ObjectMapper()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    }

    /**
     * The body as a JSON tree. Text and bytes must be one JSON document in UTF-8; a body that is not is the caller's
     * mistake ({@link InvalidRequestException}, HTTP 400). A failure to read the body at all (a broken stream) is not,
     * and goes up as it is (HTTP 500).
     */
    public JsonNode read(Exchange exchange) throws IOException {
        Object body = exchange.getMessage().getBody();
        if (body instanceof JsonNode node) {
            return node;
        }
        if (body == null) {
            throw invalidBody("The request has no body: a JSON document is expected");
        }
        if (body instanceof Map<?, ?> || body instanceof List<?>) {
            try {
                return mapper.valueToTree(body);
            } catch (IllegalArgumentException e) {
                throw invalidBody("The body holds a value that cannot be written as JSON");
            }
        }
        if (body instanceof String text) {
            exchange.setProperty(REQUEST_BYTES, text.length() * 3L);
            return parse(text, null);
        }
        byte[] bytes = exchange.getContext().getTypeConverter().tryConvertTo(byte[].class, exchange, body);
        if (bytes == null) {
            InputStream stream = exchange.getContext().getTypeConverter().tryConvertTo(InputStream.class, exchange, body);
            if (stream == null) {
                throw invalidBody("A body of type " + body.getClass().getName() + " is not JSON: send JSON text,"
                                  + " UTF-8 bytes, a Map, a List or a JsonNode");
            }
            try (stream) {
                bytes = stream.readAllBytes();
            }
        }
        exchange.setProperty(REQUEST_BYTES, (long) bytes.length);
        requireUtf8(bytes);
        return parse(null, bytes);
    }

    /** The body as a task: a JSON object (its fields are the schema's to check). */
    public JsonNode readTask(Exchange exchange) throws IOException {
        JsonNode task = read(exchange);
        if (!task.isObject()) {
            throw invalidBody("A task is a JSON object {\"action\": \"...\", \"data\": {...}}, not "
                              + kindOf(task) + encodedTwice(task));
        }
        return task;
    }

    /** What a JSON value is, in the words of an error message: "a JSON string", "an array", ... */
    public static String kindOf(JsonNode node) {
        if (node.isObject()) {
            return "an object";
        }
        if (node.isArray()) {
            return "an array";
        }
        if (node.isTextual()) {
            return "a JSON string";
        }
        if (node.isNumber()) {
            return "a number";
        }
        if (node.isBoolean()) {
            return node.booleanValue() ? "true" : "false";
        }
        if (node.isNull()) {
            return "null";
        }
        return "a " + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " value";
    }

    /** A hint for the usual cause of a JSON string body: the caller encoded its JSON a second time. */
    public static String encodedTwice(JsonNode node) {
        String text = node.isTextual() ? node.textValue().strip() : "";
        return text.startsWith("{") || text.startsWith("[") ? " (its text is JSON: was the JSON encoded twice?)" : "";
    }

    /** A 400 about the body as a whole; errors name the field "(body)", as schema errors on the whole body do. */
    public static InvalidRequestException invalidBody(String message) {
        return new InvalidRequestException(message, List.of(Map.of("field", "(body)", "message", message)));
    }

    private JsonNode parse(String text, byte[] bytes) {
        try {
            JsonNode node = text != null ? mapper.readTree(text) : mapper.readTree(bytes);
            if (node == null || node.isMissingNode()) {
                throw invalidBody("The request has no body: a JSON document is expected");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw invalidBody("The body is not valid JSON: " + plain(e) + locationOf(e));
        } catch (IOException e) {
            // reading a String or a byte array in memory fails only on what it holds
            throw invalidBody("The body is not valid JSON");
        }
    }

    /**
     * Only well-formed UTF-8 is JSON here (RFC 8259 8.1): overlong forms (C0 AF for '/'), encoded surrogates and bytes
     * that are no UTF-8 at all are refused rather than decoded by a lenient reader. A NUL byte is refused too: it is
     * never valid in JSON text, and without it the parser cannot take the body for UTF-16 or UTF-32.
     */
    static void requireUtf8(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw invalidBody("The body is not UTF-8 JSON: a NUL byte at offset " + i + lineAndColumn(bytes, i)
                                  + (i < 4 ? " (UTF-16 or UTF-32 text? send UTF-8)" : ""));
            }
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(Math.min(bytes.length + 1, 8192));
        CoderResult result;
        do {
            result = decoder.decode(in, out, true);
            if (result.isError()) {
                int offset = in.position();
                throw invalidBody(String.format("The body is not UTF-8: byte 0x%02X at offset %d%s does not start a"
                                                + " well-formed UTF-8 sequence", bytes[offset] & 0xff, offset,
                        lineAndColumn(bytes, offset)));
            }
            out.clear();
        } while (result.isOverflow());
    }

    /** " (line L, column C)" of a byte offset, columns counted in bytes as the parser counts them. */
    private static String lineAndColumn(byte[] bytes, int offset) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return " (line " + line + ", column " + (offset - lineStart + 1) + ")";
    }

    /**
     * What is wrong with the JSON, in plain words: the parser's own message without the names of its classes and
     * settings, which mean nothing to a caller.
     */
    static String plain(JsonProcessingException e) {
        String message = String.valueOf(e.getOriginalMessage());
        if (e instanceof StreamConstraintsException) {
            if (message.startsWith("Document nesting depth")) {
                return "nesting deeper than " + MAX_NESTING + " levels of objects and arrays";
            }
            if (message.startsWith("Number value length")) {
                return "a number of more than " + MAX_NUMBER_DIGITS + " digits";
            }
            if (message.startsWith("String value length")) {
                return "a string longer than the parser takes";
            }
            if (message.startsWith("Name length")) {
                return "a field name longer than the parser takes";
            }
            return "the document is larger or deeper than the parser takes";
        }
        if (e instanceof JsonEOFException) {
            return "the body ends before the JSON does (an object, array or string is not closed)";
        }
        if (e instanceof MismatchedInputException && message.startsWith("Trailing token")) {
            return "more follows the JSON document: send exactly one JSON value";
        }
        if (message.startsWith("Non-standard token")) {
            return message.substring("Non-standard token ".length()).split(":")[0]
                   + " is not a JSON value (JSON has no NaN or Infinity)";
        }
        if (message.contains("maybe a (non-standard) comment?")) {
            return "JSON has no comments";
        }
        int cut = message.length();
        for (String internal : new String[] {": enable ", " (not recognized", " (bound as", " (start marker", "`",
                "Feature", " (for "}) {
            int at = message.indexOf(internal);
            if (at >= 0 && at < cut) {
                cut = at;
            }
        }
        String plain = message.substring(0, cut).strip();
        boolean internals = plain.isEmpty() || plain.contains("jackson") || plain.contains("VALUE_")
                            || plain.contains("START_") || plain.contains("END_") || plain.contains("FIELD_NAME");
        return internals ? "not a well-formed JSON document" : plain;
    }

    /** The parser's defaults, named in error messages. */
    static final int MAX_NESTING = 1000;
    static final int MAX_NUMBER_DIGITS = 1000;

    private static String locationOf(JsonProcessingException e) {
        var location = e.getLocation();
        if (location == null || location.getLineNr() < 0) {
            return "";
        }
        return " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    /**
     * A JSON tree as the plain Java values MongoDB stores: objects as ordered maps, arrays as lists, whole numbers as
     * int or long, other numbers as double (the BSON types the Python portal wrote). What MongoDB would refuse or the
     * driver would change is a {@link NotStorableException} naming the field (see {@link #toStoredValue}).
     */
    public static Object toPlainValue(JsonNode node) {
        return toStoredValue(node, 1);
    }

    /** MongoDB stores no document nested deeper than this, the document itself being level 1. */
    public static final int MONGODB_MAX_LEVELS = 100;

    /**
     * As {@link #toPlainValue}, for a value that sits at the given level of its stored document (the document itself
     * is level 1), and refusing what MongoDB 5.0+ or its Java driver would not store as sent: a field name holding a
     * NUL character (the BSON encoder refuses it, after earlier batches may be stored), objects and arrays nested
     * deeper than {@value #MONGODB_MAX_LEVELS} levels in the document (the server refuses the insert), and text holding
     * a surrogate without its pair (not Unicode: the driver would write U+FFFD in its place). Field names starting with
     * {@code $} or holding dots are stored by MongoDB 5.0+ and are kept.
     */
    public static Object toStoredValue(JsonNode node, int level) {
        if (node.isContainerNode() && level > MONGODB_MAX_LEVELS) {
            throw new NotStorableException("objects and arrays nested deeper than MongoDB stores ("
                                           + MONGODB_MAX_LEVELS + " levels in the stored document; this one is at "
                                           + level + ")");
        }
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            var fields = node.fields();
            while (fields.hasNext()) {
                var field = fields.next();
                String name = field.getKey();
                try {
                    requireStorableName(name);
                    map.put(name, toStoredValue(field.getValue(), level + 1));
                } catch (NotStorableException e) {
                    throw e.under("." + LogValues.escape(name));
                }
            }
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            for (int i = 0; i < node.size(); i++) {
                try {
                    list.add(toStoredValue(node.get(i), level + 1));
                } catch (NotStorableException e) {
                    throw e.under("[" + i + "]");
                }
            }
            return list;
        }
        if (node.isTextual()) {
            return requireStorableText(node.textValue());
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isIntegralNumber()) {
            if (node.canConvertToInt()) {
                return node.intValue();
            }
            if (node.canConvertToLong()) {
                return node.longValue();
            }
            throw new NotStorableException("the number " + node.asText() + " is beyond a 64-bit integer");
        }
        if (node.isNumber()) {
            double value = node.doubleValue();
            if (Double.isInfinite(value) || Double.isNaN(value)) {
                throw new NotStorableException("the number " + node.asText() + " is beyond a double");
            }
            return value;
        }
        return null;
    }

    private static void requireStorableName(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == 0) {
                throw new NotStorableException("a field name holds a NUL character, which MongoDB does not take in"
                                               + " field names");
            }
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < name.length()
                    && Character.isLowSurrogate(name.charAt(i + 1))) {
                    i++;
                } else {
                    throw unpaired(c, "a field name");
                }
            }
        }
    }

    /** The text, unless it holds a surrogate without its pair. */
    public static String requireStorableText(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    throw unpaired(c, "the text");
                }
            }
        }
        return text;
    }

    private static NotStorableException unpaired(char c, String what) {
        return new NotStorableException(String.format("%s holds U+%04X, half of a surrogate pair without its other"
                                                      + " half: not Unicode text (MongoDB would store U+FFFD in its"
                                                      + " place)", what, (int) c));
    }

    /** A value MongoDB would refuse or change; {@link #field()} is the path below the value converted. */
    public static final class NotStorableException extends IllegalArgumentException {

        private String field = "";

        NotStorableException(String message) {
            super(message);
        }

        NotStorableException under(String step) {
            field = step + field;
            return this;
        }

        /** ".a.b[2]" below the value converted; empty for the value itself. */
        public String field() {
            return field;
        }
    }
}
