package com.metropia.portal.messaging.lint;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.metropia.portal.messaging.PortalMessagingApplication;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import org.apache.camel.CamelContext;
import org.apache.camel.FailedToCreateRouteException;
import org.apache.camel.FailedToStartRouteException;
import org.apache.camel.LineNumberAware;
import org.apache.camel.NamedNode;
import org.apache.camel.main.Main;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteConfigurationDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * The service's own Camel Main, booted without routes, without the HTTP server and with stand-in SQS and MongoDB
 * clients, so that the route files can be loaded into it as at start-up: whatever Camel refuses when it builds a route
 * (a bean method it cannot call, a class it cannot load) is found here, offline. Routes are built, never started.
 */
final class LintCamel implements AutoCloseable {

    private final Main main;
    final CamelContext context;

    private LintCamel(Main main) {
        this.main = main;
        this.context = main.getCamelContext();
    }

    /**
     * What the service learns at start-up (the queue URL it looks up) or needs only to reach SQS and MongoDB: the
     * routes' placeholders see these, no client uses them.
     */
    static final Map<String, String> STAND_IN_SETTINGS = Map.of(
            "portal.sqs.region", "us-east-1",
            "portal.sqs.queue-url", "http://127.0.0.1:1/000000000000/lint",
            "portal.mongodb.uri", "mongodb://127.0.0.1:1/");

    static LintCamel boot(Path applicationProperties) throws Exception {
        Main main = PortalMessagingApplication.createMain();
        // The settings of the file, where the service reads them, but the pipelines it makes from templates
        // (camel.routeTemplate[...]) wait until the files that hold the templates are loaded: they are checked then.
        Path settings = withoutRouteTemplates(applicationProperties);
        StringBuilder locations = new StringBuilder();
        boolean replaced = false;
        for (String location : String.valueOf(main.getDefaultPropertyPlaceholderLocation()).split(",")) {
            boolean file = location.contains("application.properties");
            replaced |= file;
            locations.append(locations.isEmpty() ? "" : ",")
                    .append(file ? "file:" + settings.toAbsolutePath() + ";optional=true" : location.trim());
        }
        if (!replaced) {
            locations.append(",file:").append(settings.toAbsolutePath()).append(";optional=true");
        }
        main.setDefaultPropertyPlaceholderLocation(locations.toString());
        // Bound before the portal configuration runs, so it builds no client and makes no call.
        main.bind("portalSqsClient", standIn(software.amazon.awssdk.services.sqs.SqsClient.class));
        main.bind("portalMongoClient", standIn(com.mongodb.client.MongoClient.class));
        main.addOverrideProperty("camel.main.routes-collector-enabled", "false");
        // Main reads the files of the include pattern at boot even without collecting them (beans, modelines): a
        // pattern that matches nothing, so a broken file is found by the checks, not by the boot.
        main.addOverrideProperty("camel.main.routes-include-pattern", "classpath:portal-messaging/lint/none/*.camel.yaml");
        main.addOverrideProperty("camel.main.auto-startup", "false");
        main.addOverrideProperty("camel.main.source-location-enabled", "true");
        main.addOverrideProperty("camel.main.routes-reload-enabled", "false");
        main.addOverrideProperty("camel.server.enabled", "false");
        main.addOverrideProperty("camel.management.enabled", "false");
        main.addOverrideProperty("camel.main.jmx-enabled", "false");
        main.addOverrideProperty("portal.startup.check-backends", "false");
        // the lint checks the event type schemas itself, each problem at its file, line and column
        main.addOverrideProperty("portal.events.types-dir", "");
        STAND_IN_SETTINGS.forEach(main::addOverrideProperty);
        try {
            main.start();
        } finally {
            Files.deleteIfExists(settings);
        }
        return new LintCamel(main);
    }

    static Properties settings(Path applicationProperties) throws IOException {
        Properties settings = new Properties();
        if (Files.isRegularFile(applicationProperties)) {
            try (Reader in = Files.newBufferedReader(applicationProperties, StandardCharsets.ISO_8859_1)) {
                settings.load(in);
            }
        }
        return settings;
    }

    /** A copy of the file without its camel.routeTemplate[...] lines (and their continuation lines). */
    private static Path withoutRouteTemplates(Path applicationProperties) throws IOException {
        Path copy = Files.createTempFile("portal-lint", ".properties");
        if (!Files.isRegularFile(applicationProperties)) {
            return copy;
        }
        List<String> kept = new ArrayList<>();
        boolean dropping = false;
        boolean continued = false;
        for (String line : Files.readAllLines(applicationProperties, StandardCharsets.ISO_8859_1)) {
            if (!continued) {
                dropping = isRouteTemplateKey(line.strip());
            }
            continued = line.endsWith("\\") && !line.endsWith("\\\\");
            kept.add(dropping ? "" : line);
        }
        Files.write(copy, kept, StandardCharsets.ISO_8859_1);
        return copy;
    }

    static boolean isRouteTemplateKey(String key) {
        return key.toLowerCase(Locale.ROOT).startsWith("camel.routetemplate[");
    }

    /**
     * The pipelines application.properties makes from the templates (camel.routeTemplate[id].templateId and their
     * parameters), made as Camel Main would once the templates are loaded.
     */
    List<Problem> addRoutesFromProperties(Path applicationProperties, PropertyLines lines) throws IOException {
        Map<String, Map<String, Object>> byId = new TreeMap<>();
        settings(applicationProperties).forEach((key, value) -> {
            String name = key.toString();
            int close = name.indexOf("].");
            if (isRouteTemplateKey(name) && close > 0) {
                byId.computeIfAbsent(name.substring(name.indexOf('[') + 1, close), id -> new LinkedHashMap<>())
                        .put(name.substring(close + 2), value.toString());
            }
        });
        List<Problem> problems = new ArrayList<>();
        byId.forEach((routeId, parameters) -> {
            Object templateId = parameters.remove("templateId");
            Map<String, Object> values = new LinkedHashMap<>();
            parameters.forEach((name, value) -> values.put(name, context.resolvePropertyPlaceholders(value.toString())));
            try {
                ((ModelCamelContext) context).addRouteFromTemplate(routeId, String.valueOf(templateId), values);
            } catch (Exception | LinkageError e) {
                problems.add(lines.at("camel.routeTemplate[" + routeId + "].templateId",
                        "route " + routeId + " from template " + templateId + ": " + rootMessage(e)));
            }
        });
        return problems;
    }

    /** Where a key of application.properties is written. */
    interface PropertyLines {
        Problem at(String key, String message);
    }

    @Override
    public void close() {
        main.stop();
    }

    /**
     * An interface implemented by nothing: every call answers a default, or another stand-in for an interface
     * (MongoClient.getDatabase().getCollection() ...), so endpoints can be built on it and no call leaves the JVM.
     */
    @SuppressWarnings("unchecked")
    static <T> T standIn(Class<T> type) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            switch (method.getName()) {
                case "toString":
                    return "lint stand-in for " + type.getSimpleName();
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                default:
                    break;
            }
            Class<?> answer = method.getReturnType();
            if (answer.isInterface()) {
                return standIn(answer);
            }
            if (answer == boolean.class) {
                return false;
            }
            if (answer.isPrimitive() && answer != void.class) {
                return answer == long.class ? 0L : answer == double.class ? 0d : answer == float.class ? 0f : 0;
            }
            return null;
        });
    }

    // ---- load ---------------------------------------------------------------------------------------------------

    /**
     * Loads one file's routes as Camel would at start-up, and reports what Camel refuses, where it is. Camel stops at
     * the first route it cannot build: that route's entry is then left out (its lines blanked, so the others keep their
     * line numbers) and the file loaded again, until it loads.
     */
    List<Problem> load(YamlFile file) {
        List<Problem> problems = new ArrayList<>();
        Set<Integer> leftOut = new HashSet<>();
        Path copy = null;
        try {
            Path source = file.path;
            for (int attempt = 0; attempt <= YamlFile.items(file.root).size(); attempt++) {
                Snapshot before = new Snapshot();
                try {
                    PluginHelper.getRoutesLoader(context)
                            .loadRoutes(ResourceHelper.resolveResource(context, "file:" + source.toAbsolutePath()));
                    return problems;
                } catch (Exception | LinkageError e) {
                    String routeId = failedRouteId(e);
                    problems.add(locate(file, routeId, e));
                    before.restore();
                    int entry = entryOf(file, routeId);
                    if (entry < 0 || !leftOut.add(entry)) {
                        return problems;
                    }
                    if (copy == null) {
                        copy = Files.createTempDirectory("portal-lint").resolve(file.path.getFileName());
                    }
                    Files.write(copy, without(file, leftOut));
                    source = copy;
                }
            }
            return problems;
        } catch (Exception e) {
            return problems;
        } finally {
            if (copy != null) {
                try {
                    Files.deleteIfExists(copy);
                    Files.deleteIfExists(copy.getParent());
                } catch (IOException e) {
                    // a temporary file left behind
                }
            }
        }
    }

    /** What a failed load had already added, so that loading the file again does not find it twice. */
    private final class Snapshot {
        private final List<RouteDefinition> routes = new ArrayList<>(model().getRouteDefinitions());
        private final List<RouteTemplateDefinition> templates = new ArrayList<>(model().getRouteTemplateDefinitions());
        private final List<RouteConfigurationDefinition> configurations = new ArrayList<>(
                model().getRouteConfigurationDefinitions());

        void restore() throws Exception {
            List<RouteDefinition> addedRoutes = new ArrayList<>(model().getRouteDefinitions());
            addedRoutes.removeAll(routes);
            for (RouteDefinition route : addedRoutes) {
                if (context.getRoute(route.getRouteId()) != null) {
                    context.getRouteController().stopRoute(route.getRouteId());
                    context.removeRoute(route.getRouteId());
                }
            }
            model().removeRouteDefinitions(addedRoutes);
            List<RouteTemplateDefinition> addedTemplates = new ArrayList<>(model().getRouteTemplateDefinitions());
            addedTemplates.removeAll(templates);
            model().removeRouteTemplateDefinitions(addedTemplates);
            List<RouteConfigurationDefinition> addedConfigurations = new ArrayList<>(
                    model().getRouteConfigurationDefinitions());
            addedConfigurations.removeAll(configurations);
            for (RouteConfigurationDefinition configuration : addedConfigurations) {
                model().removeRouteConfiguration(configuration);
            }
        }
    }

    private ModelCamelContext model() {
        return (ModelCamelContext) context;
    }

    /** The top-level entry that declares the route (a route's id, a templated route's routeId). */
    private static int entryOf(YamlFile file, String routeId) {
        List<Node> entries = YamlFile.items(file.root);
        for (int i = 0; routeId != null && i < entries.size(); i++) {
            Node entry = entries.get(i);
            boolean declares = YamlFile.get(entry, "route").flatMap(r -> YamlFile.text(r, "id"))
                                       .filter(routeId::equals).isPresent()
                               || YamlFile.get(entry, "templatedRoute").flatMap(r -> YamlFile.text(r, "routeId"))
                                       .filter(routeId::equals).isPresent();
            if (declares) {
                return i;
            }
        }
        return -1;
    }

    /** The file's lines with the given top-level entries blanked. */
    private static List<String> without(YamlFile file, Set<Integer> entries) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file.path, StandardCharsets.UTF_8));
        List<Node> items = YamlFile.items(file.root);
        for (int index : entries) {
            Node entry = items.get(index);
            int from = entry.getStartMark().map(m -> m.getLine()).orElse(0);
            int to = entry.getEndMark().map(m -> m.getColumn() == 0 ? m.getLine() : m.getLine() + 1)
                    .orElse(lines.size());
            for (int line = from; line < Math.min(to, lines.size()); line++) {
                lines.set(line, "");
            }
        }
        return lines;
    }

    private static String failedRouteId(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof FailedToCreateRouteException created) {
                return created.getRouteId();
            }
            if (t instanceof FailedToStartRouteException started) {
                return started.getRouteId();
            }
        }
        return null;
    }

    private static final Pattern AT = Pattern.compile(">>> (.+?) <<<");

    /**
     * Camel names the route that failed and the step it was building (">>> step <<<"); the step's definition carries
     * its line in the file, which Camel recorded while reading the YAML.
     */
    private Problem locate(YamlFile file, String routeId, Throwable failure) {
        String step = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof FailedToCreateRouteException created) {
                Matcher at = AT.matcher(String.valueOf(created.getMessage()));
                step = at.find() ? at.group(1) : null;
                break;
            }
        }
        String message = Dependencies.explain(failure).orElse(rootMessage(failure));
        RouteDefinition route = routeId == null ? null
                : ((ModelCamelContext) context).getRouteDefinition(routeId);
        int line = 1;
        if (route != null) {
            line = Math.max(1, route.getLineNumber());
            LineNumberAware node = step == null ? null : find(route, step);
            if (node != null && node.getLineNumber() > 0) {
                line = node.getLineNumber();
            }
        }
        String text = (routeId == null ? "" : "route " + routeId + ": ") + message;
        // Camel names only the route's top-level step; the value its message quotes, written inside that step, is
        // the better place.
        Optional<Node> quoted = quotedValue(file, line, rootMessage(failure));
        return quoted.map(node -> file.problem(node, text)).orElse(new Problem(file.path, line, 1, text));
    }

    private static final Pattern QUOTED = Pattern.compile("#[\\w.:-]+|'([^']+)'|\\[([^\\]]+)]");

    private static Optional<Node> quotedValue(YamlFile file, int fromLine, String message) {
        Matcher matcher = QUOTED.matcher(message);
        while (matcher.find()) {
            String token = matcher.group(1) != null ? matcher.group(1)
                    : matcher.group(2) != null ? matcher.group(2) : matcher.group();
            Optional<Node> found = scalarsFrom(file.root, fromLine).filter(n -> n.getValue().contains(token))
                    .map(Node.class::cast).findFirst();
            if (found.isPresent()) {
                return found;
            }
        }
        // else the one value of this entry that the message names as a word (a bean name, a class name)
        Node entry = YamlFile.items(file.root).stream()
                .filter(e -> e.getStartMark().map(m -> m.getLine() + 1 <= fromLine).orElse(false)
                             && e.getEndMark().map(m -> m.getLine() + 1 >= fromLine).orElse(false))
                .findFirst().orElse(null);
        if (entry == null) {
            return Optional.empty();
        }
        Set<String> words = Set.of(message.split("[\\s,;()\\[\\]{}\"']+"));
        List<ScalarNode> named = scalarsFrom(entry, 0)
                .filter(n -> n.getValue().length() > 2 && words.contains(n.getValue())).toList();
        return named.size() == 1 ? Optional.of(named.get(0)) : Optional.empty();
    }

    private static java.util.stream.Stream<ScalarNode> scalarsFrom(Node node, int fromLine) {
        if (node instanceof ScalarNode scalar) {
            int line = scalar.getStartMark().map(m -> m.getLine() + 1).orElse(0);
            return line >= fromLine ? java.util.stream.Stream.of(scalar) : java.util.stream.Stream.empty();
        }
        if (node instanceof MappingNode mapping) {
            return mapping.getValue().stream().flatMap(t -> java.util.stream.Stream.concat(
                    scalarsFrom(t.getKeyNode(), fromLine), scalarsFrom(t.getValueNode(), fromLine)));
        }
        if (node instanceof SequenceNode sequence) {
            return sequence.getValue().stream().flatMap(n -> scalarsFrom(n, fromLine));
        }
        return java.util.stream.Stream.empty();
    }

    private static LineNumberAware find(NamedNode node, String label) {
        if (node instanceof ProcessorDefinition<?> processor && label.equals(processor.toString())) {
            return processor;
        }
        List<NamedNode> children = new ArrayList<>();
        if (node instanceof RouteDefinition route) {
            children.add(route.getInput());
            children.addAll(route.getOutputs());
        } else if (node instanceof ProcessorDefinition<?> processor) {
            children.addAll(processor.getOutputs());
        }
        for (NamedNode child : children) {
            if (child != null) {
                LineNumberAware found = find(child, label);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    static String rootMessage(Throwable failure) {
        Throwable last = failure;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            last = t;
        }
        String message = last.getMessage() == null ? last.getClass().getSimpleName() : last.getMessage();
        return message.replaceAll("\\s+", " ").trim();
    }
}
