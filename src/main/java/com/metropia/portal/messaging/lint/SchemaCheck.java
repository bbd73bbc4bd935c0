package com.metropia.portal.messaging.lint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.snakeyaml.engine.v2.exceptions.Mark;

/** The route files against the Camel YAML DSL JSON schema shipped in camel-yaml-dsl (the one editors use). */
final class SchemaCheck {

    private static final String SCHEMA = "schema/camelYamlDsl.json";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{.*}}");

    /** Compiled once per JVM: the schema is 800 kB, and the reloading dev run lints on every save. */
    private static volatile JsonSchema schema;

    private SchemaCheck() {
    }

    static JsonSchema schema() {
        JsonSchema compiled = schema;
        if (compiled == null) {
            synchronized (SchemaCheck.class) {
                if (schema == null) {
                    schema = compile();
                }
                compiled = schema;
            }
        }
        return compiled;
    }

    private static JsonSchema compile() {
        try (InputStream in = SchemaCheck.class.getClassLoader().getResourceAsStream(SCHEMA)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA + " is not on the class path (camel-yaml-dsl)");
            }
            JsonNode tree = new ObjectMapper().readTree(in);
            // Compiling every definition up front costs more than the validation of three files: only what they use.
            SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().preloadJsonSchema(false).build();
            // The DSL schema marks options "deprecated": true, a keyword draft 4 does not have: known here as one that
            // checks nothing, rather than warned about as unknown in the log of every lint.
            JsonMetaSchema v4 = JsonMetaSchema.builder(JsonMetaSchema.getV4())
                    .keyword(new NonValidationKeyword("deprecated")).build();
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4, factory -> factory.metaSchema(v4))
                    .getSchema(tree, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Problem> check(YamlFile file) {
        Map<String, Problem> found = new LinkedHashMap<>();
        for (ValidationMessage message : schema().validate(file.json)) {
            if (isPlaceholderForTypedOption(message)) {
                continue;
            }
            String location = message.getInstanceLocation().toString();
            String at = location;
            String property = message.getProperty() == null ? null
                    : location + "/" + message.getProperty().replace("~", "~0").replace("/", "~1");
            if (property != null && file.marks.containsKey(property)) {
                at = property;
            }
            Mark mark = nearestMark(file.marks, at);
            String text = plain(message);
            found.putIfAbsent(at + text, new Problem(file.path, mark.getLine() + 1, mark.getColumn() + 1, text));
        }
        return mostSpecific(new ArrayList<>(found.values()));
    }

    /** A {{placeholder}} where the schema expects a number or boolean is resolved at load time: checked there. */
    private static boolean isPlaceholderForTypedOption(ValidationMessage message) {
        JsonNode node = message.getInstanceNode();
        return "type".equals(message.getType()) && node != null && node.isTextual()
               && PLACEHOLDER.matcher(node.textValue()).find();
    }

    /**
     * The DSL's steps are a "one of" many EIPs, so one typo yields an error for every EIP it is not: keep, per line, the
     * errors that name the unknown or wrong key rather than the list of alternatives.
     */
    private static List<Problem> mostSpecific(List<Problem> problems) {
        Map<Integer, List<Problem>> byLine = new LinkedHashMap<>();
        problems.forEach(p -> byLine.computeIfAbsent(p.line(), l -> new ArrayList<>()).add(p));
        List<Problem> kept = new ArrayList<>();
        for (List<Problem> onLine : byLine.values()) {
            kept.add(onLine.stream().min(Comparator.comparingInt(SchemaCheck::rank)
                    .thenComparingInt(p -> p.message().length())).orElseThrow());
        }
        return kept;
    }

    /** The more a message names what to change, the better. */
    private static int rank(Problem problem) {
        String message = problem.message();
        for (int i = 0; i < SPECIFIC.size(); i++) {
            if (message.contains(SPECIFIC.get(i))) {
                return i;
            }
        }
        return SPECIFIC.size();
    }

    private static final List<String> SPECIFIC = List.of("not a known key", "required property", "found, ");

    private static String plain(ValidationMessage message) {
        String text = message.getMessage();
        String prefix = message.getInstanceLocation() + ": ";
        String plain = text.startsWith(prefix) ? text.substring(prefix.length()) : text;
        return plain.replace("is not defined in the schema and the schema does not allow additional properties",
                "is not a known key here (a typo?)");
    }

    private static Mark nearestMark(Map<String, Mark> marks, String location) {
        String at = location;
        while (!marks.containsKey(at) && at.contains("/")) {
            at = at.substring(0, at.lastIndexOf('/'));
        }
        return marks.getOrDefault(at, marks.get(""));
    }
}
