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
        StringBuilder field = new StringBuilder();
        for (int i = 0; i < path.getNameCount(); i++) {
            Object element = path.getElement(i);
            if (i == 0 && element instanceof Integer index) {
                error.put("index", index);
            } else if (element instanceof Integer index) {
                field.append('[').append(index).append(']');
            } else {
                field.append(field.isEmpty() ? "" : ".").append(element);
            }
        }
        // "required" and "additionalProperties" are reported on the parent object; name the property itself.
        if (message.getProperty() != null) {
            field.append(field.isEmpty() ? "" : ".").append(message.getProperty());
        }
        error.put("field", field.isEmpty() ? "(body)" : field.toString());
        error.put("message", plain(message));
        return error;
    }

    private static String plain(ValidationMessage message) {
        String text = message.getMessage();
        String prefix = message.getInstanceLocation() + ": ";
        return text.startsWith(prefix) ? text.substring(prefix.length()) : text;
    }

    private static String describe(Map<String, Object> error) {
        String where = error.containsKey("index") ? "event " + error.get("index") + " " : "";
        return where + error.get("field") + ": " + error.get("message");
    }
}
