package com.metropia.portal.messaging.lint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.metropia.portal.messaging.PortalMessagingApplication;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.apache.camel.main.Main;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Checks the YAML routes offline: YAML syntax, the Camel YAML DSL schema, and that the routes load in Camel (every
 * component, option, EIP and placeholder known), with no SQS, MongoDB or network. Prints
 * {@code file:line:column: message} for each problem and exits non-zero when there is any.
 */
public final class RouteLint {

    /** One problem, where it is. */
    public record Problem(Path file, int line, int column, String message) {

        @Override
        public String toString() {
            return file + ":" + line + ":" + column + ": " + message;
        }
    }

    private static final String SCHEMA = "schema/camelYamlDsl.json";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{.*}}");

    private RouteLint() {
    }

    public static void main(String[] args) throws Exception {
        // Camel's own start-up log would bury the findings.
        System.setProperty("log4j2.configurationFile", "classpath:portal-messaging/log4j2-lint.properties");
        Path dir = Path.of(args.length > 0 ? args[0] : "routes");
        List<Path> files = routeFiles(dir);
        List<Problem> problems = lint(files);
        problems.forEach(System.out::println);
        System.out.println(files.size() + " route files checked in " + dir + ": "
                           + (problems.isEmpty() ? "no problems" : problems.size() + " problem(s)"));
        System.exit(problems.isEmpty() ? 0 : 1);
    }

    public static List<Path> routeFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".camel.yaml")).sorted().toList();
        }
    }

    /** Every problem of the files; the load check runs only when syntax and schema are clean. */
    public static List<Problem> lint(List<Path> files) throws IOException {
        List<Problem> problems = new ArrayList<>();
        JsonSchema schema = schema();
        for (Path file : files) {
            problems.addAll(syntaxAndSchema(file, schema));
        }
        if (problems.isEmpty() && !files.isEmpty()) {
            problems.addAll(load(files));
        }
        return problems;
    }

    // ---- syntax and schema --------------------------------------------------------------------------------------

    private static List<Problem> syntaxAndSchema(Path file, JsonSchema schema) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Map<String, Mark> marks = new HashMap<>();
        JsonNode tree;
        try {
            Node root = new Compose(LoadSettings.builder().setLabel(file.toString()).build()).composeString(text)
                    .orElse(null);
            if (root == null) {
                return List.of(new Problem(file, 1, 1, "the file is empty"));
            }
            tree = toJson(root, "$", marks);
        } catch (MarkedYamlEngineException e) {
            return List.of(syntaxProblem(file, e));
        }
        Map<String, Problem> found = new LinkedHashMap<>();
        for (ValidationMessage message : schema.validate(tree)) {
            String location = message.getInstanceLocation().toString();
            if (isPlaceholderForTypedOption(message)) {
                continue;
            }
            String at = location;
            if (message.getProperty() != null && marks.containsKey(location + "." + message.getProperty())) {
                at = location + "." + message.getProperty();
            }
            Mark mark = nearestMark(marks, at);
            String text1 = plain(message);
            found.putIfAbsent(at + text1, new Problem(file, mark.getLine() + 1, mark.getColumn() + 1, text1));
        }
        return mostSpecific(new ArrayList<>(found.values()));
    }

    /**
     * An unclosed [ or { is noticed lines later: point at where it was opened. Other errors are where the parser
     * stopped (the start of the enclosing block could be far above).
     */
    private static Problem syntaxProblem(Path file, MarkedYamlEngineException e) {
        Mark problem = e.getProblemMark().orElse(null);
        Mark context = e.getContextMark().orElse(null);
        boolean unclosed = context != null && e.getContext() != null && e.getContext().contains("flow");
        Mark mark = unclosed ? context : problem != null ? problem : context;
        String message = "YAML syntax: " + e.getProblem()
                         + (unclosed && problem != null ? " (at line " + (problem.getLine() + 1) + ", " + e.getContext()
                                                          + " opened here)" : "");
        return new Problem(file, mark == null ? 1 : mark.getLine() + 1, mark == null ? 1 : mark.getColumn() + 1, message);
    }

    /** A {{placeholder}} where the schema expects a number or boolean is resolved at load time: the load check sees it. */
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
            List<Problem> specific = onLine.stream()
                    .filter(p -> p.message().contains("is not defined in the schema")
                                 || p.message().contains("found, ") || p.message().contains("required property"))
                    .toList();
            List<Problem> chosen = specific.isEmpty() ? onLine : specific;
            kept.add(chosen.stream().min(Comparator.comparingInt(p -> p.message().length())).orElseThrow());
        }
        kept.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
        return kept;
    }

    private static String plain(ValidationMessage message) {
        String text = message.getMessage();
        String prefix = message.getInstanceLocation() + ": ";
        String plain = text.startsWith(prefix) ? text.substring(prefix.length()) : text;
        return plain.replace("is not defined in the schema and the schema does not allow additional properties",
                "is not a known key here (a typo?)");
    }

    private static Mark nearestMark(Map<String, Mark> marks, String location) {
        String at = location;
        while (!marks.containsKey(at) && at.contains(".") || !marks.containsKey(at) && at.contains("[")) {
            int cut = Math.max(at.lastIndexOf('.'), at.lastIndexOf('['));
            at = at.substring(0, cut);
        }
        return marks.getOrDefault(at, marks.get("$"));
    }

    private static JsonNode toJson(Node node, String path, Map<String, Mark> marks) {
        node.getStartMark().ifPresent(mark -> marks.put(path, mark));
        if (node instanceof MappingNode mapping) {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            for (NodeTuple tuple : mapping.getValue()) {
                String key = ((ScalarNode) tuple.getKeyNode()).getValue();
                String keyPath = path + "." + key;
                tuple.getKeyNode().getStartMark().ifPresent(mark -> marks.put(keyPath, mark));
                object.set(key, toJson(tuple.getValueNode(), keyPath, marks));
                // the key's position is the better place to point at
                tuple.getKeyNode().getStartMark().ifPresent(mark -> marks.put(keyPath, mark));
            }
            return object;
        }
        if (node instanceof SequenceNode sequence) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            int i = 0;
            for (Node item : sequence.getValue()) {
                array.add(toJson(item, path + "[" + i++ + "]", marks));
            }
            return array;
        }
        ScalarNode scalar = (ScalarNode) node;
        String value = scalar.getValue();
        Tag tag = scalar.getTag();
        if (Tag.INT.equals(tag)) {
            return JsonNodeFactory.instance.numberNode(new java.math.BigInteger(value.replace("_", "")));
        }
        if (Tag.FLOAT.equals(tag)) {
            return JsonNodeFactory.instance.numberNode(Double.parseDouble(value));
        }
        if (Tag.BOOL.equals(tag)) {
            return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(value));
        }
        if (Tag.NULL.equals(tag)) {
            return JsonNodeFactory.instance.nullNode();
        }
        return JsonNodeFactory.instance.textNode(value);
    }

    private static JsonSchema schema() throws IOException {
        try (InputStream in = Main.class.getClassLoader().getResourceAsStream(SCHEMA)) {
            if (in == null) {
                throw new IllegalStateException(SCHEMA + " is not on the class path (camel-yaml-dsl)");
            }
            JsonNode schema = new ObjectMapper().readTree(in);
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(schema);
        }
    }

    // ---- load -------------------------------------------------------------------------------------------------

    /**
     * Loads the routes in Camel without starting them, the clients pointed at stand-ins on this machine, so that an
     * unknown component, option, EIP or placeholder fails here as it would at start-up.
     */
    private static List<Problem> load(List<Path> files) {
        Main main = PortalMessagingApplication.createMain();
        StringBuilder pattern = new StringBuilder();
        for (Path file : files) {
            pattern.append(pattern.isEmpty() ? "" : ",").append("file:").append(file.toAbsolutePath());
        }
        main.addOverrideProperty("camel.main.routes-include-pattern", pattern.toString());
        main.addOverrideProperty("camel.main.auto-startup", "false");
        main.addOverrideProperty("camel.main.source-location-enabled", "true");
        main.addOverrideProperty("camel.server.enabled", "false");
        main.addOverrideProperty("camel.management.enabled", "false");
        main.addOverrideProperty("portal.sqs.region", "us-east-1");
        main.addOverrideProperty("portal.sqs.endpoint", "http://127.0.0.1:1");
        main.addOverrideProperty("portal.sqs.access-key", "lint");
        main.addOverrideProperty("portal.sqs.secret-key", "lint");
        main.addOverrideProperty("portal.sqs.queue-url", "http://127.0.0.1:1/000000000000/lint");
        main.addOverrideProperty("portal.mongodb.uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1");
        main.addOverrideProperty("portal.startup.check-backends", "false");
        try {
            main.start();
            return List.of();
        } catch (Exception e) {
            return List.of(locate(files, e));
        } finally {
            main.stop();
        }
    }

    /** What the usual load failures name, and how that text appears in a route file. */
    private static final List<Map.Entry<Pattern, String>> CLUES = List.of(
            Map.entry(Pattern.compile("Unknown parameters=\\[\\{([^=}]+)="), "%s"),
            Map.entry(Pattern.compile("No endpoint could be found for: ([^:]+):"), "%s:"),
            Map.entry(Pattern.compile("Failed to resolve endpoint: ([^:]+):"), "%s:"),
            Map.entry(Pattern.compile("Property with key \\[([^\\]]+)]"), "{{%s"),
            Map.entry(Pattern.compile("No bean could be found in the registry for: ([^\\s]+)"), "%s"),
            Map.entry(Pattern.compile("[Rr]oute (?:with )?id:? ?\\[?([\\w.-]+)"), "%s"));

    /** Where in the files the load failure points: the text the error names (an option, a scheme, a key). */
    static Problem locate(List<Path> files, Throwable failure) {
        String message = rootMessage(failure);
        for (Map.Entry<Pattern, String> clue : CLUES) {
            Matcher matcher = clue.getKey().matcher(message);
            if (matcher.find()) {
                String needle = String.format(clue.getValue(), matcher.group(1));
                for (Path file : files) {
                    int[] at = find(file, needle);
                    if (at != null) {
                        return new Problem(file, at[0], at[1], message);
                    }
                }
            }
        }
        return new Problem(files.get(0), 1, 1, message);
    }

    private static int[] find(Path file, String needle) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int column = line.indexOf(needle);
                if (column >= 0 && !line.trim().startsWith("#")) {
                    return new int[] {i + 1, column + 1};
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static String rootMessage(Throwable failure) {
        StringBuilder text = new StringBuilder();
        Throwable last = failure;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            last = t;
        }
        String message = last.getMessage() == null ? last.getClass().getSimpleName() : last.getMessage();
        text.append(message.replaceAll("\\s+", " ").trim());
        return text.toString();
    }
}
