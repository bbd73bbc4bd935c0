package com.metropia.portal.messaging.support;

import com.metropia.portal.messaging.InvalidRequestException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.networknt.schema.JsonNodePath;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import org.apache.camel.Exchange;
import org.apache.camel.component.jsonvalidator.JsonValidatorErrorHandler;

/**
 * Turns JSON Schema violations into an {@link InvalidRequestException} that names, for each problem, the event index
 * (for an array of events) and the field, in plain words.
 */
public class SchemaErrors implements JsonValidatorErrorHandler {

    @Override
    public void handleErrors(Exchange exchange, JsonSchema schema, Set<ValidationMessage> messages) {
        List<Map<String, Object>> errors = messages.stream()
                .map(SchemaErrors::toError)
                .sorted(Comparator.comparing((Map<String, Object> e) -> (Integer) e.getOrDefault("index", -1))
                        .thenComparing(e -> String.valueOf(e.get("field"))))
                .collect(Collectors.toCollection(ArrayList::new));
        String summary = errors.stream().map(SchemaErrors::describe).collect(Collectors.joining("; "));
        throw new InvalidRequestException("The request does not match its schema: " + summary, errors);
    }

    /**
     * The validator failed rather than found the body wrong. Only a parse error is the caller's (400); anything else
     * (the schema not loading, a conversion failing) is the service's own fault and goes up as it is (500).
     */
    @Override
    public void handleErrors(Exchange exchange, JsonSchema schema, Exception e) {
        if (e instanceof InvalidRequestException invalid) {
            throw invalid;
        }
        if (e instanceof JsonProcessingException parse) {
            throw PortalJson.invalidBody("The body is not valid JSON: " + PortalJson.plain(parse));
        }
        if (e instanceof RuntimeException runtime) {
            throw runtime;
        }
        throw new IllegalStateException("The request could not be checked against its schema", e);
    }

    private static Map<String, Object> toError(ValidationMessage message) {
        JsonNodePath path = message.getInstanceLocation();
        Map<String, Object> error = new LinkedHashMap<>();
        int from = 0;
        if (path.getNameCount() > 0 && path.getElement(0) instanceof Integer index) {
            error.put("index", index);
            from = 1;
        }
        String field = field("", message, from);
        error.put("field", field.isEmpty() ? "(body)" : field);
        error.put("message", plain(message));
        return error;
    }

    /**
     * The field a violation is about, after {@code base}: the elements of its instance location from {@code from} on
     * ({@code a.b[2].c}), and the property a "required" or "additionalProperties" violation reports on the parent
     * object, so that the property itself is named. Empty when the whole document is meant and {@code base} is empty.
     */
    public static String field(String base, ValidationMessage message, int from) {
        JsonNodePath path = message.getInstanceLocation();
        StringBuilder field = new StringBuilder(base);
        for (int i = from; i < path.getNameCount(); i++) {
            Object element = path.getElement(i);
            if (element instanceof Integer index) {
                field.append('[').append(index).append(']');
            } else {
                field.append(field.isEmpty() ? "" : ".").append(element);
            }
        }
        if (message.getProperty() != null) {
            field.append(field.isEmpty() ? "" : ".").append(message.getProperty());
        }
        return field.toString();
    }

    /** The violation's words without the location the validator puts in front of them. */
    public static String plain(ValidationMessage message) {
        String text = message.getMessage();
        String prefix = message.getInstanceLocation() + ": ";
        return text.startsWith(prefix) ? text.substring(prefix.length()) : text;
    }

    private static String describe(Map<String, Object> error) {
        String where = error.containsKey("index") ? "event " + error.get("index") + " " : "";
        return where + error.get("field") + ": " + error.get("message");
    }
}
