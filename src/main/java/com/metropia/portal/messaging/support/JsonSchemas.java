package com.metropia.portal.messaging.support;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.ValidationMessage;
import org.apache.camel.Exchange;
import org.apache.camel.component.jsonvalidator.DefaultJsonUriSchemaLoader;

/**
 * Checks the body, already read into a JSON tree, against a JSON Schema of the project. The json-validator endpoint
 * does the same check but writes the tree out as text and reads it back first: for a request of 100,000 events that
 * was a second copy of the request in memory and about a fifth of the time spent on it. The schemas are loaded as the
 * endpoint loads them (classpath, the draft they declare) and violations become the same 400 ({@link SchemaErrors}).
 */
public class JsonSchemas {

    private final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();
    private final SchemaErrors errors = new SchemaErrors();

    /** The body, a {@link JsonNode}, against the schema at this class path location; a violation is a 400. */
    public void validate(Exchange exchange, String location) {
        JsonSchema schema = schemas.computeIfAbsent(location, path -> load(exchange, path));
        Set<ValidationMessage> messages = schema.validate(exchange.getMessage().getBody(JsonNode.class));
        if (!messages.isEmpty()) {
            errors.handleErrors(exchange, schema, messages);
        }
    }

    private static JsonSchema load(Exchange exchange, String location) {
        try {
            return new DefaultJsonUriSchemaLoader().createSchema(exchange.getContext(), location);
        } catch (Exception e) {
            throw new IllegalStateException("The JSON Schema " + location + " could not be loaded", e);
        }
    }
}
