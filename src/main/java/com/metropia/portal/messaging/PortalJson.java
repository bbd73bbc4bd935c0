package com.metropia.portal.messaging;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
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

    /** The body as a JSON tree; a body that is not JSON fails with a {@link InvalidRequestException}. */
    public JsonNode read(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        try {
            if (body instanceof JsonNode node) {
                return node;
            }
            if (body == null) {
                throw new InvalidRequestException("The request has no body: a JSON document is expected");
            }
            if (body instanceof Map<?, ?> || body instanceof List<?>) {
                return mapper.valueToTree(body);
            }
            if (body instanceof String text) {
                exchange.setProperty(REQUEST_BYTES, text.length() * 3L);
                return notEmpty(mapper.readTree(text));
            }
            byte[] bytes = exchange.getContext().getTypeConverter().tryConvertTo(byte[].class, exchange, body);
            if (bytes != null) {
                exchange.setProperty(REQUEST_BYTES, (long) bytes.length);
                return notEmpty(mapper.readTree(bytes));
            }
            InputStream stream = exchange.getContext().getTypeConverter().mandatoryConvertTo(InputStream.class, exchange,
                    body);
            return notEmpty(mapper.readTree(stream));
        } catch (InvalidRequestException e) {
            throw e;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidRequestException("The body is not valid JSON: " + e.getOriginalMessage()
                                              + locationOf(e));
        } catch (Exception e) {
            throw new InvalidRequestException("The body cannot be read as JSON: " + e.getMessage());
        }
    }

    private static JsonNode notEmpty(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            throw new InvalidRequestException("The request has no body: a JSON document is expected");
        }
        return node;
    }

    private static String locationOf(com.fasterxml.jackson.core.JsonProcessingException e) {
        var location = e.getLocation();
        if (location == null || location.getLineNr() < 0) {
            return "";
        }
        return " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    /**
     * A JSON tree as the plain Java values MongoDB stores: objects as ordered maps, arrays as lists, whole numbers as
     * int or long, other numbers as double (the BSON types the Python portal wrote). A number none of them can hold
     * is an {@link IllegalArgumentException}.
     */
    public static Object toPlainValue(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.fields().forEachRemaining(field -> map.put(field.getKey(), toPlainValue(field.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            node.forEach(element -> list.add(toPlainValue(element)));
            return list;
        }
        if (node.isTextual()) {
            return node.textValue();
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
            throw new IllegalArgumentException("the number " + node.asText() + " is beyond a 64-bit integer");
        }
        if (node.isNumber()) {
            double value = node.doubleValue();
            if (Double.isInfinite(value)) {
                throw new IllegalArgumentException("the number " + node.asText() + " is beyond a double");
            }
            return value;
        }
        return null;
    }
}
