package com.metropia.portal.messaging.lint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * One route file as the YAML parser composed it: every node keeps its mark (line and column), which is where a problem
 * is reported. The JSON view for the schema check maps each JSON path back to its mark.
 */
final class YamlFile {

    final Path path;
    final Node root;
    final JsonNode json;
    /** JSON pointer (/0/route/id), as the schema validator names places, to the mark of the key or of the node. */
    final Map<String, Mark> marks = new HashMap<>();
    final List<Problem> syntax = new ArrayList<>();

    private YamlFile(Path path, Node root) {
        this.path = path;
        this.root = root;
        this.json = root == null ? null : toJson(root, "");
    }

    static YamlFile read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            Node root = new Compose(LoadSettings.builder().setLabel(file.toString()).build()).composeString(text)
                    .orElse(null);
            YamlFile yaml = new YamlFile(file, root);
            if (root == null) {
                yaml.syntax.add(new Problem(file, 1, 1, "the file is empty"));
            }
            return yaml;
        } catch (MarkedYamlEngineException e) {
            YamlFile yaml = new YamlFile(file, null);
            yaml.syntax.add(syntaxProblem(file, e));
            return yaml;
        }
    }

    boolean parsed() {
        return root != null;
    }

    Problem problem(Node node, String message) {
        Mark mark = node.getStartMark().orElse(null);
        return mark == null ? new Problem(path, 1, 1, message)
                : new Problem(path, mark.getLine() + 1, mark.getColumn() + 1, message);
    }

    /** At a character offset inside a one-line scalar (an option in a URI, the broken part of an expression). */
    Problem problem(Node node, int offset, String message) {
        Mark mark = node.getStartMark().orElse(null);
        if (mark == null) {
            return new Problem(path, 1, 1, message);
        }
        int column = mark.getColumn() + 1;
        if (offset >= 0 && node instanceof ScalarNode scalar && scalar.getValue().indexOf('\n') < 0
            && (scalar.getScalarStyle() == ScalarStyle.PLAIN || !scalar.getValue().contains("\\"))) {
            column += offset + (scalar.getScalarStyle() == ScalarStyle.PLAIN ? 0 : 1);
        }
        return new Problem(path, mark.getLine() + 1, column, message);
    }

    static String where(Path file, Node node) {
        return node.getStartMark().map(m -> file.getFileName() + ":" + (m.getLine() + 1) + ":" + (m.getColumn() + 1))
                .orElse(file.getFileName().toString());
    }

    // ---- navigation ---------------------------------------------------------------------------------------------

    static Optional<Node> get(Node node, String key) {
        if (node instanceof MappingNode mapping) {
            for (NodeTuple tuple : mapping.getValue()) {
                if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
                    return Optional.of(tuple.getValueNode());
                }
            }
        }
        return Optional.empty();
    }

    static Optional<String> text(Node node, String key) {
        return get(node, key).filter(ScalarNode.class::isInstance).map(n -> ((ScalarNode) n).getValue());
    }

    static List<Node> items(Node node) {
        return node instanceof SequenceNode sequence ? sequence.getValue() : List.of();
    }

    static String keyOf(NodeTuple tuple) {
        return tuple.getKeyNode() instanceof ScalarNode k ? k.getValue() : String.valueOf(tuple.getKeyNode());
    }

    // ---- syntax -------------------------------------------------------------------------------------------------

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

    // ---- JSON view for the schema -------------------------------------------------------------------------------

    private JsonNode toJson(Node node, String path) {
        node.getStartMark().ifPresent(mark -> marks.put(path, mark));
        if (node instanceof MappingNode mapping) {
            ObjectNode object = JsonNodeFactory.instance.objectNode();
            for (NodeTuple tuple : mapping.getValue()) {
                String key = keyOf(tuple);
                String keyPath = path + "/" + key.replace("~", "~0").replace("/", "~1");
                object.set(key, toJson(tuple.getValueNode(), keyPath));
                // the key's position is the better place to point at
                tuple.getKeyNode().getStartMark().ifPresent(mark -> marks.put(keyPath, mark));
            }
            return object;
        }
        if (node instanceof SequenceNode sequence) {
            ArrayNode array = JsonNodeFactory.instance.arrayNode();
            int i = 0;
            for (Node item : sequence.getValue()) {
                array.add(toJson(item, path + "/" + i++));
            }
            return array;
        }
        ScalarNode scalar = (ScalarNode) node;
        String value = scalar.getValue();
        Tag tag = scalar.getTag();
        try {
            if (Tag.INT.equals(tag)) {
                return JsonNodeFactory.instance.numberNode(new java.math.BigInteger(value.replace("_", "")));
            }
            if (Tag.FLOAT.equals(tag)) {
                return JsonNodeFactory.instance.numberNode(Double.parseDouble(value));
            }
        } catch (NumberFormatException e) {
            return JsonNodeFactory.instance.textNode(value);
        }
        if (Tag.BOOL.equals(tag)) {
            return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(value));
        }
        if (Tag.NULL.equals(tag)) {
            return JsonNodeFactory.instance.nullNode();
        }
        return JsonNodeFactory.instance.textNode(value);
    }
}
