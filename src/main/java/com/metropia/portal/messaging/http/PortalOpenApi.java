package com.metropia.portal.messaging.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * The OpenAPI 3.1 document of the HTTP API, served at {@code portal.http.openapi-path}. It is assembled when the
 * service starts from a template (paths, statuses, answer schemas) and the JSON Schema files the routes validate
 * requests with, copied in as they are: the document cannot describe a request differently from how it is checked.
 * OpenAPI 3.1 schemas are JSON Schema 2020-12, the dialect of those files, so nothing is translated; a reference
 * between the files ({@code "$ref": "event.schema.json"}) becomes a reference to its component.
 */
public class PortalOpenApi {

    static final String TEMPLATE = "portal-messaging/openapi/openapi-template.json";
    static final String SCHEMAS = "portal-messaging/schemas/";
    /** The schema files the routes validate with, by the component name they get in the document. */
    public static final Map<String, String> SCHEMA_FILES = Map.of(
            "Task", "task.schema.json",
            "Event", "event.schema.json",
            "Events", "events.schema.json");

    private static final String DEFAULT_TASKS_PATH = "/api/tasks";
    private static final String DEFAULT_EVENTS_PATH = "/api/events";

    private final String json;

    public PortalOpenApi(ObjectMapper mapper, String tasksPath, String eventsPath) {
        ObjectNode document = (ObjectNode) read(mapper, TEMPLATE);
        ObjectNode schemas = (ObjectNode) document.get("components").get("schemas");
        Map<String, String> componentOfFile = new LinkedHashMap<>();
        SCHEMA_FILES.forEach((component, file) -> componentOfFile.put(file, component));
        SCHEMA_FILES.forEach((component, file) -> {
            ObjectNode schema = (ObjectNode) read(mapper, SCHEMAS + file);
            // the document declares the dialect once (jsonSchemaDialect)
            schema.remove("$schema");
            pointReferencesAtComponents(schema, componentOfFile);
            schemas.set(component, schema);
        });
        ObjectNode paths = (ObjectNode) document.get("paths");
        rename(paths, DEFAULT_TASKS_PATH, tasksPath);
        rename(paths, DEFAULT_EVENTS_PATH, eventsPath);
        checkReferences(document, document);
        try {
            this.json = mapper.writeValueAsString(document);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("The OpenAPI document cannot be written", e);
        }
    }

    /** The document, as JSON. */
    public String json() {
        return json;
    }

    private static JsonNode read(ObjectMapper mapper, String resource) {
        try (InputStream in = PortalOpenApi.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("The OpenAPI document needs " + resource + ", which is missing");
            }
            return mapper.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + resource, e);
        }
    }

    private static void pointReferencesAtComponents(JsonNode node, Map<String, String> componentOfFile) {
        if (node instanceof ObjectNode object) {
            JsonNode ref = object.get("$ref");
            if (ref != null && ref.isTextual() && !ref.textValue().startsWith("#")) {
                String component = componentOfFile.get(ref.textValue());
                if (component == null) {
                    throw new IllegalStateException("A schema refers to " + ref.textValue()
                                                    + ", which the OpenAPI document does not hold: add it to "
                                                    + PortalOpenApi.class.getSimpleName() + ".SCHEMA_FILES");
                }
                object.set("$ref", new TextNode("#/components/schemas/" + component));
            }
        }
        node.forEach(child -> pointReferencesAtComponents(child, componentOfFile));
    }

    private static void rename(ObjectNode paths, String from, String to) {
        if (to == null || to.equals(from)) {
            return;
        }
        // keeps the order of the paths
        List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
        paths.fields().forEachRemaining(entries::add);
        paths.removeAll();
        entries.forEach(entry -> paths.set(entry.getKey().equals(from) ? to : entry.getKey(), entry.getValue()));
    }

    /** Every local reference leads somewhere, so a typo in the template stops the start-up rather than a client. */
    private static void checkReferences(JsonNode node, JsonNode document) {
        JsonNode ref = node.get("$ref");
        if (ref != null && ref.isTextual()) {
            String pointer = ref.textValue().substring(1);
            if (!ref.textValue().startsWith("#/") || document.at(pointer).isMissingNode()) {
                throw new IllegalStateException("The OpenAPI template refers to " + ref.textValue()
                                                + ", which it does not hold");
            }
        }
        node.forEach(child -> checkReferences(child, document));
    }
}
