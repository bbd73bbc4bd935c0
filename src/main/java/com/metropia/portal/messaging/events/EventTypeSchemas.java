package com.metropia.portal.messaging.events;

import com.metropia.portal.messaging.InvalidRequestException;
import com.metropia.portal.messaging.PortalMessagingApplication;
import com.metropia.portal.messaging.support.LogValues;
import com.metropia.portal.messaging.support.SchemaErrors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion.VersionFlag;
import com.networknt.schema.SpecVersionDetector;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.serialization.node.LocationJsonNodeFactoryFactory;
import com.networknt.schema.utils.JsonNodes;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event types of the incentive events: one JSON Schema file per {@code eventName}, named
 * {@code <eventName>.schema.json}, in a folder beside the routes ({@code routes/event-types}). The schema describes
 * the event's {@code eventMeta}. An event whose name has a schema is checked against it before anything of its request
 * is stored; names without one pass, or are refused with {@code portal.events.unknown-types=refuse}.
 * <p>
 * Every file is read and compiled once, when the service starts (the quick-start run reads them again when one is
 * saved: {@link #reload}); a file that is not valid JSON, not a valid JSON
 * Schema or not named after a plausible eventName stops the start-up (and is reported by the route lint, at its line
 * and column). The same checks serve both: {@link #check(String, String)}.
 */
public final class EventTypeSchemas {

    /** Setting: the folder of the schema files, a {@code file:} or {@code classpath:} location. */
    public static final String TYPES_DIR = "portal.events.types-dir";
    /** Setting: {@code accept} (default) or {@code refuse} the events whose name has no schema. */
    public static final String UNKNOWN_TYPES = "portal.events.unknown-types";
    /** The folder of the schema files beside each folder of routes, unless {@link #TYPES_DIR} says otherwise. */
    public static final String FOLDER = "event-types";
    /** A schema file is {@code <eventName>.schema.json}. */
    public static final String SUFFIX = ".schema.json";

    private static final Logger LOG = LoggerFactory.getLogger(EventTypeSchemas.class);
    private static final String ROUTES_PATTERN = "camel.main.routes-include-pattern";
    /** What an eventName looks like: it must also be a file name on every system. */
    private static final Pattern EVENT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,199}");
    /** Strict, like the request bodies: a key given twice is an error, not "the last one wins". */
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /** {@code "format": "date-time"} and the like are checked, as an integrator writing them expects. */
    private static final SchemaValidatorsConfig CHECKED_FORMATS = SchemaValidatorsConfig.builder()
            .formatAssertionsEnabled(true).build();
    /** One factory per draft: it keeps the meta-schema it loaded (the validator's own copy, never fetched). */
    private static final Map<VersionFlag, JsonSchemaFactory> FACTORIES = new ConcurrentHashMap<>();
    /** Meta-schemas, compiled when a file of that draft is checked. */
    private static final Map<VersionFlag, JsonSchema> META_SCHEMAS = new ConcurrentHashMap<>();

    /** Replaced as a whole by {@link #reload}: a request reads it once and sees one version of every schema. */
    private volatile Map<String, JsonSchema> schemas;
    private final boolean refuseUnknown;
    private final List<String> folders;

    EventTypeSchemas(Map<String, JsonSchema> schemas, boolean refuseUnknown, List<String> folders) {
        this.schemas = Map.copyOf(schemas);
        this.refuseUnknown = refuseUnknown;
        this.folders = List.copyOf(folders);
    }

    /** The event types that have a schema, sorted. */
    public Set<String> types() {
        return types(schemas);
    }

    private static Set<String> types(Map<String, JsonSchema> schemas) {
        return new TreeMap<>(schemas).keySet();
    }

    /** The folders the schemas were read from. */
    public List<String> folders() {
        return folders;
    }

    public boolean refusesUnknownTypes() {
        return refuseUnknown;
    }

    /**
     * Checks the eventMeta of every event whose name has a schema (and, with {@code unknown-types=refuse}, that every
     * name has one). Every problem of the request is reported at once, each with the event's index and the field; the
     * request then stores nothing. The events are the JSON array the events schema already accepted.
     */
    public void validate(JsonNode events) {
        Map<String, JsonSchema> schemas = this.schemas;
        if (schemas.isEmpty() && !refuseUnknown) {
            return;
        }
        List<Map<String, Object>> errors = new ArrayList<>();
        for (int index = 0; index < events.size(); index++) {
            JsonNode event = events.get(index);
            String name = event.path("eventName").asText();
            JsonSchema schema = schemas.get(name);
            if (schema == null) {
                if (refuseUnknown) {
                    errors.add(IncentiveEvents.error(index, "eventName", "no schema for event type '" + LogValues.of(name)
                                                         + "' (" + UNKNOWN_TYPES + " = refuse); known types: "
                                                         + known(schemas)));
                }
                continue;
            }
            for (ValidationMessage message : sorted(schema.validate(event.path("eventMeta")))) {
                errors.add(IncentiveEvents.error(index, SchemaErrors.field("eventMeta", message, 0),
                        SchemaErrors.plain(message) + " (schema of " + name + ")"));
            }
        }
        if (!errors.isEmpty()) {
            String summary = errors.stream().limit(10)
                    .map(e -> "event " + e.get("index") + " " + e.get("field") + ": " + e.get("message"))
                    .collect(Collectors.joining("; "));
            throw new InvalidRequestException("The request does not match the schema of its event types: " + summary
                                              + (errors.size() > 10 ? "; ... (" + errors.size() + " in all)" : ""),
                    errors);
        }
    }

    private static String known(Map<String, JsonSchema> schemas) {
        if (schemas.isEmpty()) {
            return "none";
        }
        Set<String> types = types(schemas);
        return types.stream().limit(20).collect(Collectors.joining(", "))
               + (types.size() > 20 ? ", ... (" + types.size() + " in all)" : "");
    }

    private static List<ValidationMessage> sorted(Set<ValidationMessage> messages) {
        List<ValidationMessage> list = new ArrayList<>(messages);
        list.sort(Comparator.comparing((ValidationMessage message) -> SchemaErrors.field("eventMeta", message, 0)));
        return list;
    }

    /** {@code eventMeta.trip.distance}, {@code eventMeta.stops[2]}: the field as the caller wrote it. */
    // ---------------------------------------------------------------------------------------------------------------
    // Loading, at start-up
    // ---------------------------------------------------------------------------------------------------------------

    /**
     * Reads the settings and every schema file of the folders. Each problem (a wrong setting, a file that does not
     * pass {@link #check}, an event type with a schema in two folders) goes to {@code problems}, naming the setting or
     * the file with its line and column; the start-up then stops.
     */
    public static EventTypeSchemas load(CamelContext context, Consumer<String> problems) {
        PropertiesComponent properties = context.getPropertiesComponent();
        boolean refuse = false;
        Optional<String> unknown = setting(properties, UNKNOWN_TYPES);
        if (unknown.isPresent()) {
            switch (unknown.get().toLowerCase(Locale.ROOT)) {
                case "accept" -> refuse = false;
                case "refuse" -> refuse = true;
                default -> problems.accept(UNKNOWN_TYPES + " (PORTAL_EVENTS_UNKNOWN_TYPES) must be accept or refuse, not '"
                                           + unknown.get() + "'");
            }
        }
        Optional<String> given = setting(properties, TYPES_DIR);
        List<String> folders = given.map(dir -> List.of(location(dir))).orElseGet(() -> defaultFolders(properties));
        if (given.isPresent() && !exists(context, folders.get(0))) {
            problems.accept(TYPES_DIR + " (PORTAL_EVENTS_TYPES_DIR) is a folder of <eventName>.schema.json files;"
                            + " there is no folder " + given.get());
        }
        Map<String, JsonSchema> schemas = read(context, folders, problems);
        EventTypeSchemas eventTypes = new EventTypeSchemas(schemas, refuse, folders);
        LOG.info("Event types checked against a schema: {} (from {}); events of other types are {}",
                schemas.isEmpty() ? "none" : String.join(", ", eventTypes.types()), String.join(", ", folders),
                refuse ? "refused" : "accepted");
        return eventTypes;
    }

    /**
     * Reads the folders again (the quick-start run does when a schema file is saved): without a problem, the schemas
     * read replace those in use at once, for the requests that come next; with any, nothing changes. The problems,
     * {@code file:line:column: message} each.
     */
    public List<String> reload(CamelContext context) {
        List<String> problems = new ArrayList<>();
        Map<String, JsonSchema> read = read(context, folders, problems::add);
        if (problems.isEmpty()) {
            schemas = Map.copyOf(read);
        }
        return problems;
    }

    private static Map<String, JsonSchema> read(CamelContext context, List<String> folders,
                                                Consumer<String> problems) {
        Map<String, JsonSchema> schemas = new HashMap<>();
        Map<String, String> where = new HashMap<>();
        for (String folder : folders) {
            for (Resource resource : schemaFiles(context, folder, problems)) {
                String location = shown(resource.getLocation());
                String fileName = location.substring(location.lastIndexOf('/') + 1);
                String text;
                try (InputStream in = resource.getInputStream()) {
                    text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    problems.accept(location + ": cannot be read: " + e.getMessage());
                    continue;
                }
                Checked checked = check(fileName, text);
                checked.problems().forEach(p -> problems.accept(location + ":" + p));
                if (checked.schema() == null) {
                    continue;
                }
                String earlier = where.putIfAbsent(checked.eventName(), location);
                if (earlier != null) {
                    problems.accept(location + ": event type '" + checked.eventName() + "' has a schema already, in "
                                    + earlier + ": keep one");
                } else {
                    schemas.put(checked.eventName(), checked.schema());
                }
            }
        }
        return schemas;
    }

    private static Optional<String> setting(PropertiesComponent properties, String key) {
        return properties.resolveProperty(key).map(String::trim).filter(value -> !value.isEmpty());
    }

    /**
     * The {@code event-types} folder beside each folder the routes are read from: {@code file:routes/event-types} for
     * the service, {@code classpath:portal-messaging/routes/event-types} for the routes packed in the jar.
     */
    static List<String> defaultFolders(PropertiesComponent properties) {
        String patterns = setting(properties, ROUTES_PATTERN).orElse(PortalMessagingApplication.PACKED_ROUTES);
        List<String> folders = new ArrayList<>();
        for (String pattern : patterns.split(",")) {
            String trimmed = location(pattern.trim());
            int slash = trimmed.lastIndexOf('/');
            int colon = trimmed.indexOf(':');
            String folder = slash > colon ? trimmed.substring(0, slash) : trimmed.substring(0, colon + 1) + ".";
            if (!folder.contains("*") && !folders.contains(folder + "/" + FOLDER)) {
                folders.add(folder + "/" + FOLDER);
            }
        }
        return folders;
    }

    /** A location with its scheme; a bare path is a file, as Camel reads it in routes-include-pattern. */
    private static String location(String folder) {
        String trimmed = folder.endsWith("/") ? folder.substring(0, folder.length() - 1) : folder;
        return trimmed.startsWith("classpath:") || trimmed.startsWith("file:") ? trimmed : "file:" + trimmed;
    }

    private static String shown(String location) {
        return location.startsWith("file:") ? location.substring("file:".length()) : location;
    }

    private static boolean exists(CamelContext context, String folder) {
        if (folder.startsWith("file:")) {
            return Files.isDirectory(Path.of(folder.substring("file:".length())));
        }
        return context.getClassResolver().loadResourceAsURL(folder.substring("classpath:".length())) != null;
    }

    private static Collection<Resource> schemaFiles(CamelContext context, String folder, Consumer<String> problems) {
        if (folder.startsWith("file:") && !exists(context, folder)) {
            return List.of();
        }
        try {
            List<Resource> files = new ArrayList<>(
                    PluginHelper.getPackageScanResourceResolver(context).findResources(folder + "/*.json"));
            files.sort(Comparator.comparing(Resource::getLocation));
            return files;
        } catch (Exception e) {
            problems.accept(folder + ": the event type schemas cannot be listed: " + e.getMessage());
            return List.of();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Checking one file: at start-up and in the route lint
    // ---------------------------------------------------------------------------------------------------------------

    /** A problem of a schema file, where it is (line and column from 1). */
    public record FileProblem(int line, int column, String message) {

        @Override
        public String toString() {
            return line + ":" + column + ": " + message;
        }
    }

    /** One file checked: the event type it names and its compiled schema, or what is wrong with it. */
    public record Checked(String eventName, JsonSchema schema, List<FileProblem> problems) {
    }

    /**
     * Checks one schema file: its name ({@code <eventName>.schema.json}, a plausible eventName), its JSON (a key given
     * twice included), its {@code $schema} (a JSON Schema draft the validator knows), references (only inside the
     * file: nothing is fetched), the schema against its draft's meta-schema, and that it compiles.
     */
    public static Checked check(String fileName, String text) {
        List<FileProblem> problems = new ArrayList<>();
        String eventName = null;
        if (!fileName.endsWith(SUFFIX)) {
            problems.add(new FileProblem(1, 1, "not read as an event type: a schema file is named <eventName>"
                                               + SUFFIX + ", such as trip_completed" + SUFFIX));
        } else {
            eventName = fileName.substring(0, fileName.length() - SUFFIX.length());
            if (!EVENT_NAME.matcher(eventName).matches()) {
                problems.add(new FileProblem(1, 1, "'" + LogValues.of(eventName) + "' is not a plausible eventName:"
                                                   + " letters, digits, _ . - only, starting with a letter or digit"));
            }
        }
        JsonNode tree;
        try {
            // parsed once plainly for the parser's own error (with its line and column), then with the location of
            // every node, for the meta-schema's findings
            STRICT.readTree(text);
            tree = JsonNodes.readTree(STRICT, text, LocationJsonNodeFactoryFactory.getInstance());
        } catch (JsonProcessingException e) {
            problems.add(at(e.getLocation(), "not valid JSON: " + e.getOriginalMessage()));
            return new Checked(eventName, null, problems);
        } catch (RuntimeException e) {
            JsonProcessingException cause = e.getCause() instanceof JsonProcessingException p ? p : null;
            problems.add(cause == null ? new FileProblem(1, 1, "not valid JSON: " + e.getMessage())
                    : at(cause.getLocation(), "not valid JSON: " + cause.getOriginalMessage()));
            return new Checked(eventName, null, problems);
        }
        if (tree == null || !tree.isObject()) {
            problems.add(new FileProblem(1, 1, "a schema file holds one JSON object, the schema of the eventMeta of"
                                               + " its event type"));
            return new Checked(eventName, null, problems);
        }
        VersionFlag version = VersionFlag.V202012;
        JsonNode declared = tree.get("$schema");
        if (declared != null) {
            Optional<VersionFlag> detected = declared.isTextual()
                    ? SpecVersionDetector.detectOptionalVersion(declared.textValue()) : Optional.empty();
            if (detected.isEmpty()) {
                problems.add(at(declared, "$schema " + declared + " is not a JSON Schema draft this service knows: "
                                          + "use https://json-schema.org/draft/2020-12/schema (or leave it out)"));
                return new Checked(eventName, null, problems);
            }
            version = detected.get();
        }
        List<FileProblem> references = new ArrayList<>();
        outsideReferences(tree, false, references);
        problems.addAll(references);
        Map<String, List<ValidationMessage>> byLocation = new LinkedHashMap<>();
        for (ValidationMessage message : metaSchema(version).validate(tree)) {
            byLocation.computeIfAbsent(message.getInstanceLocation().toString(), l -> new ArrayList<>()).add(message);
        }
        List<FileProblem> invalid = new ArrayList<>();
        for (List<ValidationMessage> messages : byLocation.values()) {
            ValidationMessage first = messages.get(0);
            JsonNode node = JsonNodes.get(tree, first.getInstanceLocation());
            invalid.add(at(node == null ? tree : node, "not a valid JSON Schema: " + bestOf(messages)));
        }
        invalid.sort(Comparator.comparingInt(FileProblem::line).thenComparingInt(FileProblem::column));
        problems.addAll(invalid);
        if (!references.isEmpty() || !invalid.isEmpty()) {
            return new Checked(eventName, null, problems);
        }
        JsonSchema schema;
        try {
            schema = factory(version).getSchema(tree, CHECKED_FORMATS);
            schema.initializeValidators();
        } catch (RuntimeException e) {
            problems.add(new FileProblem(1, 1, "the schema does not compile: " + e.getMessage()));
            return new Checked(eventName, null, problems);
        }
        return new Checked(eventName, problems.isEmpty() ? schema : null, problems);
    }

    /** Of the meta-schema's complaints about one value, the one that names what is allowed. */
    private static String bestOf(List<ValidationMessage> messages) {
        return messages.stream().map(SchemaErrors::plain)
                .min(Comparator.comparingInt((String m) -> m.contains("enumeration") ? 0 : 1)
                        .thenComparingInt(String::length))
                .orElseThrow();
    }

    private static JsonSchemaFactory factory(VersionFlag version) {
        return FACTORIES.computeIfAbsent(version, JsonSchemaFactory::getInstance);
    }

    private static JsonSchema metaSchema(VersionFlag version) {
        return META_SCHEMAS.computeIfAbsent(version, v -> {
            JsonSchema meta = factory(v).getSchema(SchemaLocation.of(v.getId()));
            meta.initializeValidators();
            return meta;
        });
    }

    /**
     * A {@code $ref} to another document would be fetched when the schema is used (from the network, for an http URL):
     * only references inside the file are taken.
     */
    private static void outsideReferences(JsonNode node, boolean namesOnly, List<FileProblem> problems) {
        if (node.isArray()) {
            node.forEach(item -> outsideReferences(item, false, problems));
            return;
        }
        if (!node.isObject()) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode value = field.getValue();
            if (!namesOnly && (field.getKey().equals("$ref") || field.getKey().equals("$dynamicRef"))
                && value.isTextual() && !value.textValue().startsWith("#")) {
                problems.add(at(value, field.getKey() + " \"" + LogValues.of(value.textValue()) + "\" points outside"
                                       + " this file: only references inside it (\"#/$defs/...\") are followed"));
            }
            // under these keywords the keys are names chosen by the author, a property may be called "$ref"
            boolean names = !namesOnly && NAMED.contains(field.getKey());
            outsideReferences(value, names, problems);
        }
    }

    private static final Set<String> NAMED = Set.of("properties", "patternProperties", "$defs", "definitions",
            "dependentSchemas");

    private static FileProblem at(JsonNode node, String message) {
        return at(JsonNodes.tokenLocationOf(node), message);
    }

    private static FileProblem at(JsonLocation location, String message) {
        if (location == null || location.getLineNr() < 1) {
            return new FileProblem(1, 1, message);
        }
        return new FileProblem(location.getLineNr(), Math.max(1, location.getColumnNr()), message);
    }
}
