package com.metropia.portal.messaging.lint;

import com.metropia.portal.messaging.config.PortalDefaults;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.metropia.portal.messaging.lint.RouteLint.Problem;
import org.apache.camel.CamelContext;
import org.apache.camel.ExpressionIllegalSyntaxException;
import org.apache.camel.catalog.EndpointValidationResult;
import org.apache.camel.catalog.impl.DefaultRuntimeCamelCatalog;
import org.apache.camel.language.simple.types.SimpleIllegalSyntaxException;
import org.apache.camel.spi.Language;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.util.URISupport;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

import static com.metropia.portal.messaging.lint.YamlFile.get;
import static com.metropia.portal.messaging.lint.YamlFile.items;
import static com.metropia.portal.messaging.lint.YamlFile.keyOf;
import static com.metropia.portal.messaging.lint.YamlFile.text;

/**
 * What loads in Camel but is still wrong, and what Camel would report one at a time with no place: each node of every
 * file is checked with Camel's own pieces (its simple language, its component models, its property placeholders, its
 * registry), and each problem is reported at the node the YAML parser read it from.
 */
final class RouteChecks {

    /** The steps whose {@code ref} names a bean of the registry. */
    private static final Set<String> REF_STEPS = Set.of("bean", "method", "process");

    /** The largest batch the events contract allows unless this setting raises it. */
    static final String MAX_BATCH_SIZE = "portal.events.max-batch-size";

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(.+?)}}");
    /** Keys whose value is an endpoint URI (or a map with one), and whether the endpoint consumes. */
    private static final Map<String, Boolean> ENDPOINTS = Map.of("from", true, "to", false, "wireTap", false,
            "enrich", false, "pollEnrich", true, "toD", false);
    /** Expressions under these keys are predicates. */
    private static final Set<String> PREDICATES = Set.of("when", "filter", "onWhen", "completionPredicate",
            "retryWhile", "handled", "continued", "validate", "loopDoWhile", "skipSendToOriginalEndpoint");

    private final CamelContext context;
    private final PropertiesComponent properties;
    private final DefaultRuntimeCamelCatalog catalog;
    private final Language simple;
    private final boolean beansBound;
    private final List<YamlFile> files;
    private final Path propertiesFile;
    private final List<Problem> problems = new ArrayList<>();

    /** routeTemplate id -> its node. */
    private final Map<String, Node> templates = new HashMap<>();
    /** bean name -> type, for beans declared in the files (they exist only once the file is loaded). */
    private final Map<String, String> declaredBeans = new HashMap<>();
    private final Map<String, Located> routeIds = new LinkedHashMap<>();
    private final List<Aggregate> aggregates = new ArrayList<>();

    private record Located(YamlFile file, Node node) {
    }

    private record Aggregate(YamlFile file, Node completionSize, String template) {
    }

    /**
     * @param beansBound whether the context holds the service's beans (false when its configuration did not start:
     *                   then names of beans are not checked)
     */
    RouteChecks(CamelContext context, boolean beansBound, List<YamlFile> files, Path propertiesFile) {
        this.context = context;
        this.beansBound = beansBound;
        this.properties = context.getPropertiesComponent();
        DefaultRuntimeCamelCatalog runtimeCatalog = new DefaultRuntimeCamelCatalog();
        runtimeCatalog.setCamelContext(context);
        runtimeCatalog.setSuggestionStrategy(new Suggestions());
        this.catalog = runtimeCatalog;
        this.simple = context.resolveLanguage("simple");
        this.files = files;
        this.propertiesFile = propertiesFile;
    }

    List<Problem> run() {
        for (YamlFile file : files) {
            for (Node entry : items(file.root)) {
                text(get(entry, "routeTemplate").orElse(null), "id")
                        .ifPresent(id -> templates.put(id, get(entry, "routeTemplate").get()));
                for (Node bean : items(get(entry, "beans").orElse(null))) {
                    text(bean, "name").ifPresent(name -> declaredBeans.put(name, text(bean, "type").orElse(null)));
                }
            }
        }
        for (YamlFile file : files) {
            for (Node entry : items(file.root)) {
                if (!(entry instanceof MappingNode mapping) || mapping.getValue().isEmpty()) {
                    continue;
                }
                NodeTuple top = mapping.getValue().get(0);
                String kind = keyOf(top);
                Node body = top.getValueNode();
                Set<String> params = Set.of();
                String template = null;
                switch (kind) {
                    case "routeTemplate" -> {
                        template = text(body, "id").orElse(null);
                        params = parameterNames(body);
                    }
                    case "route" -> routeId(file, body, "id");
                    case "templatedRoute" -> templatedRoute(file, body);
                    default -> {
                    }
                }
                visit(file, entry, null, params, template);
            }
        }
        for (Aggregate aggregate : aggregates) {
            completionSize(aggregate);
        }
        duplicatePropertyKeys();
        return problems;
    }

    // ---- the walk -----------------------------------------------------------------------------------------------

    private void visit(YamlFile file, Node node, String parentKey, Set<String> params, String template) {
        if (node instanceof MappingNode mapping) {
            Map<String, Node> seen = new HashMap<>();
            for (NodeTuple tuple : mapping.getValue()) {
                String key = keyOf(tuple);
                Node value = tuple.getValueNode();
                Node first = seen.putIfAbsent(key, tuple.getKeyNode());
                if (first != null) {
                    problems.add(file.problem(tuple.getKeyNode(), "key '" + key + "' is given twice in this map (first at "
                                                                  + YamlFile.where(file.path, first)
                                                                  + "): YAML keeps only one of them"));
                }
                step(file, key, value, parentKey, params, template);
                visit(file, value, key, params, template);
            }
        } else if (node instanceof SequenceNode sequence) {
            for (Node item : sequence.getValue()) {
                visit(file, item, parentKey, params, template);
            }
        } else if (node instanceof ScalarNode scalar) {
            placeholders(file, scalar, params);
            String value = scalar.getValue();
            if (value.startsWith("#class:") || value.startsWith("#type:")) {
                loadClass(file, scalar, value.substring(value.indexOf(':') + 1), "class");
            } else if (value.startsWith("#") && value.length() > 1 && !value.contains("{{")) {
                beanRef(file, scalar, value.startsWith("#bean:") ? value.substring(6) : value.substring(1));
            }
        }
    }

    /** The checks of one map entry, by its key. */
    private void step(YamlFile file, String key, Node value, String parentKey, Set<String> params, String template) {
        if (key.equals("simple")) {
            Node expression = value instanceof ScalarNode ? value : get(value, "expression").orElse(null);
            if (expression instanceof ScalarNode scalar) {
                simple(file, scalar, PREDICATES.contains(parentKey), params);
            }
        } else if (key.equals("log") && value instanceof ScalarNode scalar) {
            simple(file, scalar, false, params);
        } else if (key.equals("message") && "log".equals(parentKey) && value instanceof ScalarNode scalar) {
            simple(file, scalar, false, params);
        } else if (ENDPOINTS.containsKey(key)) {
            endpoint(file, key, value, params);
        } else if (key.equals("ref") && REF_STEPS.contains(parentKey) && value instanceof ScalarNode ref) {
            beanRef(file, ref, ref.getValue());
        } else if (key.endsWith("Ref") && !key.equals("routeTemplateRef") && value instanceof ScalarNode ref) {
            beanRef(file, ref, ref.getValue());
        } else if (key.equals("exception")) {
            for (Node name : items(value)) {
                if (name instanceof ScalarNode scalar) {
                    loadClass(file, scalar, scalar.getValue(), "exception");
                }
            }
        } else if ((key.equals("type") && "beans".equals(parentKey)) || key.equals("beanType")) {
            if (value instanceof ScalarNode scalar) {
                loadClass(file, scalar, scalar.getValue().replaceFirst("^#class:", ""), "bean type");
            }
        } else if (key.equals("aggregate") && value instanceof MappingNode aggregate) {
            // each one, when an edit gave it twice
            aggregate.getValue().stream().filter(t -> keyOf(t).equals("completionSize"))
                    .forEach(t -> aggregates.add(new Aggregate(file, t.getValueNode(), template)));
        }
        if ((key.equals("bean") || key.equals("method")) && value instanceof MappingNode) {
            beanMethod(file, value);
        }
    }

    // ---- simple expressions -------------------------------------------------------------------------------------

    private void simple(YamlFile file, ScalarNode node, boolean predicate, Set<String> params) {
        String expression = node.getValue();
        String resolved = resolve(expression, params);
        try {
            if (predicate) {
                simple.createPredicate(resolved);
            } else {
                simple.createExpression(resolved);
            }
        } catch (ExpressionIllegalSyntaxException e) {
            int index = e instanceof SimpleIllegalSyntaxException syntax ? syntax.getIndex() : 0;
            String because = e instanceof SimpleIllegalSyntaxException syntax ? syntax.getShortMessage() : e.getMessage();
            boolean sameText = resolved.equals(expression);
            problems.add(file.problem(node, sameText ? Math.max(0, index) : 0,
                    "simple " + (predicate ? "predicate" : "expression") + " \"" + expression + "\": " + because
                    + (sameText && index >= 0 ? " at character " + (index + 1) : "")));
        } catch (RuntimeException e) {
            problems.add(file.problem(node, "simple " + (predicate ? "predicate" : "expression") + " \"" + expression
                                            + "\": " + LintCamel.rootMessage(e)));
        }
    }

    // ---- placeholders -------------------------------------------------------------------------------------------

    private void placeholders(YamlFile file, ScalarNode node, Set<String> params) {
        Matcher matcher = PLACEHOLDER.matcher(node.getValue());
        while (matcher.find()) {
            String inner = matcher.group(1).trim();
            if (inner.startsWith("?")) {
                continue;
            }
            int colon = inner.indexOf(':');
            String key = colon < 0 ? inner : inner.substring(0, colon);
            if (params.contains(key) || colon >= 0 && properties.hasPropertiesFunction(key) || colon >= 0) {
                // a template parameter, a function ({{env:...}}) or a key with a default
                continue;
            }
            if (properties.resolveProperty(key).isEmpty()) {
                problems.add(file.problem(node, matcher.start(), "placeholder {{" + inner + "}} has no value: set "
                                                                 + key + " in application.properties (or give a"
                                                                 + " default: {{" + key + ":value}})"));
            }
        }
    }

    /** Property placeholders replaced by their values; template parameters and unknown keys left as written. */
    private String resolve(String text, Set<String> params) {
        Matcher matcher = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String inner = matcher.group(1).trim();
            String key = inner.replaceFirst("^\\?", "").replaceFirst(":.*", "");
            String value = matcher.group();
            if (!params.contains(key)) {
                try {
                    value = context.resolvePropertyPlaceholders(matcher.group());
                } catch (RuntimeException e) {
                    // reported by the placeholder check
                }
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    // ---- endpoints ----------------------------------------------------------------------------------------------

    private void endpoint(YamlFile file, String key, Node value, Set<String> params) {
        Node uriNode = value instanceof ScalarNode ? value : get(value, "uri").orElse(null);
        if (!(uriNode instanceof ScalarNode uriScalar)) {
            return;
        }
        String uri = uriScalar.getValue();
        if (key.equals("toD")) {
            simple(file, uriScalar, false, params);
            return;
        }
        if (PLACEHOLDER.matcher(uri).matches()) {
            // the whole URI is a template parameter: checked where a templated route gives it
            return;
        }
        String resolved = resolve(uri, params);
        Map<String, Object> options = new LinkedHashMap<>();
        Map<String, Node> optionNodes = new HashMap<>();
        Node parameters = get(value, "parameters").orElse(null);
        if (parameters instanceof MappingNode map) {
            Map<String, Object> inUri = query(resolved);
            for (NodeTuple tuple : map.getValue()) {
                String name = keyOf(tuple);
                if (inUri.containsKey(name)) {
                    problems.add(file.problem(tuple.getKeyNode(), "endpoint option '" + name + "' is given both in the"
                                                                  + " uri and in parameters"));
                }
                optionNodes.put(name, tuple.getKeyNode());
                if (tuple.getValueNode() instanceof ScalarNode v) {
                    options.put(name, resolve(v.getValue(), params));
                }
            }
        }
        String full = resolved;
        if (!options.isEmpty()) {
            try {
                full = URISupport.appendParametersToURI(resolved, options);
            } catch (Exception e) {
                problems.add(file.problem(uriScalar, "endpoint \"" + uri + "\": " + e.getMessage()));
                return;
            }
        }
        boolean consumer = ENDPOINTS.get(key);
        EndpointValidationResult result = catalog.validateEndpointProperties(full, true, consumer, !consumer);
        if (result.getUnknownComponent() != null) {
            String scheme = result.getUnknownComponent();
            problems.add(file.problem(uriScalar, "endpoint \"" + uri + "\": no component '" + scheme + "' on the class"
                                                 + " path (a typo? otherwise add " + Dependencies.forScheme(scheme)
                                                 + ", or leave " + file.path.getFileName() + " out of the routes)"));
            return;
        }
        if (result.getSyntaxError() != null) {
            problems.add(file.problem(uriScalar, "endpoint \"" + uri + "\": " + result.getSyntaxError()));
            return;
        }
        String scheme = catalog.endpointComponentName(full);
        if (result.getUnknown() != null) {
            for (Object name : result.getUnknown()) {
                String[] suggestions = result.getUnknownSuggestions() == null ? null
                        : (String[]) result.getUnknownSuggestions().get(name);
                String text = "unknown option '" + name + "' of " + scheme + " endpoint \"" + uri + "\""
                              + (suggestions != null && suggestions.length > 0
                                      ? " (did you mean " + String.join(", ", suggestions) + "?)" : "");
                problems.add(at(file, uriScalar, uri, optionNodes, String.valueOf(name), text));
            }
        }
        invalid(file, uriScalar, uri, optionNodes, result.getInvalidEnum(), "is not one of its choices");
        invalid(file, uriScalar, uri, optionNodes, result.getInvalidBoolean(), "is not a boolean");
        invalid(file, uriScalar, uri, optionNodes, result.getInvalidInteger(), "is not an integer");
        invalid(file, uriScalar, uri, optionNodes, result.getInvalidNumber(), "is not a number");
        invalid(file, uriScalar, uri, optionNodes, result.getInvalidDuration(), "is not a duration");
        for (String name : orEmpty(result.getNotConsumerOnly())) {
            problems.add(at(file, uriScalar, uri, optionNodes, name, "option '" + name + "' of " + scheme
                                                                     + " is for producers (to), not in from"));
        }
        for (String name : orEmpty(result.getNotProducerOnly())) {
            problems.add(at(file, uriScalar, uri, optionNodes, name, "option '" + name + "' of " + scheme
                                                                     + " is for consumers (from), not in to"));
        }
    }

    private static Set<String> orEmpty(Set<String> names) {
        return names == null ? Set.of() : names;
    }

    @SuppressWarnings("rawtypes")
    private void invalid(YamlFile file, ScalarNode uriNode, String uri, Map<String, Node> optionNodes, Map invalid,
                         String what) {
        if (invalid == null) {
            return;
        }
        for (Object entry : invalid.entrySet()) {
            Map.Entry e = (Map.Entry) entry;
            problems.add(at(file, uriNode, uri, optionNodes, String.valueOf(e.getKey()),
                    "option '" + e.getKey() + "' of endpoint \"" + uri + "\": '" + e.getValue() + "' " + what));
        }
    }

    private static Problem at(YamlFile file, ScalarNode uriNode, String uri, Map<String, Node> optionNodes,
                              String option, String message) {
        if (optionNodes.containsKey(option)) {
            return file.problem(optionNodes.get(option), message);
        }
        Matcher inUri = Pattern.compile("[?&]" + Pattern.quote(option) + "=").matcher(uri);
        return file.problem(uriNode, inUri.find() ? inUri.start() + 1 : 0, message);
    }

    private static Map<String, Object> query(String uri) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return Map.of();
        }
        try {
            return URISupport.parseQuery(uri.substring(q + 1), true, true);
        } catch (Exception e) {
            return Map.of();
        }
    }

    // ---- beans and classes --------------------------------------------------------------------------------------

    private void beanRef(YamlFile file, ScalarNode node, String name) {
        if (!beansBound || name.contains("{{") || name.isBlank() || declaredBeans.containsKey(name)) {
            return;
        }
        if (context.getRegistry().lookupByName(name) == null) {
            problems.add(file.problem(node, "no bean named '" + name + "' (neither bound by the service nor declared"
                                            + " in a beans entry)"));
        }
    }

    private void beanMethod(YamlFile file, Node node) {
        if (!beansBound) {
            return;
        }
        Optional<Node> methodNode = get(node, "method");
        Optional<String> ref = text(node, "ref");
        if (methodNode.isEmpty() || !(methodNode.get() instanceof ScalarNode method) || ref.isEmpty()
            || ref.get().contains("{{")) {
            return;
        }
        Class<?> type = null;
        Object bean = context.getRegistry().lookupByName(ref.get());
        if (bean != null) {
            type = bean.getClass();
        } else if (declaredBeans.get(ref.get()) != null) {
            try {
                type = Class.forName(declaredBeans.get(ref.get()).replaceFirst("^#class:", ""), false,
                        getClass().getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                return; // reported at the bean's type
            }
        }
        if (type == null) {
            return;
        }
        String name = method.getValue().replaceFirst("\\(.*", "").trim();
        boolean found = Arrays.stream(type.getMethods()).map(Method::getName).anyMatch(name::equals);
        if (!found) {
            problems.add(file.problem(method, "bean '" + ref.get() + "' (" + type.getSimpleName()
                                              + ") has no public method '" + name + "'"));
        }
    }

    private void loadClass(YamlFile file, ScalarNode node, String name, String what) {
        if (name.contains("{{")) {
            return;
        }
        try {
            Class<?> type = Class.forName(name.trim(), false, getClass().getClassLoader());
            // the classes its methods name are resolved only now: a missing dependency shows here, not at first call
            type.getDeclaredMethods();
            type.getDeclaredConstructors();
        } catch (ClassNotFoundException e) {
            problems.add(file.problem(node, what + " " + name + " is not on the class path"
                                            + Dependencies.forClass(name).map(a -> " (add " + a + ")")
                                                    .orElse(" (a typo?)")));
        } catch (LinkageError e) {
            problems.add(file.problem(node, what + " " + name + " " + Dependencies.explain(e)
                    .map(needs -> needs + ", or leave " + file.path.getFileName() + " out of the routes")
                    .orElse("cannot be loaded: " + e)));
        }
    }

    // ---- route ids ----------------------------------------------------------------------------------------------

    private void routeId(YamlFile file, Node route, String key) {
        Optional<Node> id = get(route, key);
        if (id.isEmpty() || !(id.get() instanceof ScalarNode scalar)) {
            return;
        }
        String value = resolve(scalar.getValue(), Set.of());
        Located first = routeIds.putIfAbsent(value, new Located(file, scalar));
        if (first != null) {
            problems.add(file.problem(scalar, "route id '" + value + "' is used twice: first at "
                                              + YamlFile.where(first.file().path, first.node())));
        }
    }

    private void templatedRoute(YamlFile file, Node body) {
        routeId(file, body, "routeId");
        Optional<Node> ref = get(body, "routeTemplateRef");
        if (ref.isPresent() && ref.get() instanceof ScalarNode name && !templates.containsKey(name.getValue())) {
            problems.add(file.problem(name, "no routeTemplate with id '" + name.getValue() + "' in these files"));
            return;
        }
        Node template = ref.map(r -> templates.get(((ScalarNode) r).getValue())).orElse(null);
        if (template == null) {
            return;
        }
        Set<String> known = parameterNames(template);
        Map<String, Node> given = instanceValues(body);
        for (Node parameter : items(get(body, "parameters").orElse(null))) {
            text(parameter, "name").filter(name -> !known.contains(name)).ifPresent(name -> problems.add(
                    file.problem(get(parameter, "name").get(), "template '" + ((ScalarNode) ref.get()).getValue()
                                                               + "' has no parameter '" + name + "' (it has "
                                                               + String.join(", ", known) + ")")));
        }
        for (Node parameter : items(get(template, "parameters").orElse(null))) {
            String name = text(parameter, "name").orElse("");
            boolean required = text(parameter, "required").map(Boolean::parseBoolean).orElse(true);
            if (required && get(parameter, "defaultValue").isEmpty() && !given.containsKey(name)) {
                problems.add(file.problem(ref.get(), "template '" + ((ScalarNode) ref.get()).getValue()
                                                     + "' needs parameter '" + name + "'"));
            }
        }
        // the template's from uri is one of its parameters: the value given here is the endpoint
        Optional<String> fromParam = get(template, "route").flatMap(r -> get(r, "from")).flatMap(f -> text(f, "uri"))
                .map(uri -> PLACEHOLDER.matcher(uri)).filter(Matcher::matches).map(m -> m.group(1).trim());
        fromParam.map(given::get).filter(ScalarNode.class::isInstance)
                .ifPresent(uri -> endpoint(file, "from", uri, Set.of()));
    }

    private static Set<String> parameterNames(Node template) {
        Set<String> names = new LinkedHashSet<>();
        for (Node parameter : items(get(template, "parameters").orElse(null))) {
            text(parameter, "name").ifPresent(names::add);
        }
        return names;
    }

    private static Map<String, Node> instanceValues(Node templatedRoute) {
        Map<String, Node> values = new LinkedHashMap<>();
        for (Node parameter : items(get(templatedRoute, "parameters").orElse(null))) {
            text(parameter, "name").ifPresent(name -> get(parameter, "value").ifPresent(v -> values.put(name, v)));
        }
        return values;
    }

    // ---- the batch contract -------------------------------------------------------------------------------------

    /**
     * An aggregate's completionSize is the number of events per stored document: 0 or less turns the size off (the
     * whole request became one document), and more than the contract's 500 is a change the configuration must say.
     * Checked for every instance of the template, with the values the instance and application.properties give.
     */
    private void completionSize(Aggregate aggregate) {
        int max = maxBatchSize();
        Node size = aggregate.completionSize();
        if (!(size instanceof ScalarNode scalar)) {
            return;
        }
        if (aggregate.template() == null || !PLACEHOLDER.matcher(scalar.getValue()).find()
            || templateParameter(scalar.getValue()).isEmpty()) {
            batchSize(aggregate.file().problem(scalar, ""), "completionSize", scalar.getValue(), "", max);
            return;
        }
        String parameter = templateParameter(scalar.getValue()).get();
        Node template = templates.get(aggregate.template());
        for (YamlFile file : files) {
            for (Node entry : items(file.root)) {
                Node instance = get(entry, "templatedRoute").orElse(null);
                if (instance == null || !aggregate.template().equals(text(instance, "routeTemplateRef").orElse(null))) {
                    continue;
                }
                String routeId = text(instance, "routeId").orElse("?");
                Node given = instanceValues(instance).get(parameter);
                if (given instanceof ScalarNode value) {
                    instanceBatchSize(aggregate, scalar, template, parameter, routeId, file.problem(value, ""),
                            parameter, value.getValue(), max);
                } else {
                    instanceBatchSize(aggregate, scalar, template, parameter, routeId, null, null, null, max);
                }
            }
        }
        // pipelines made from camel.routeTemplate[id].* properties (README, "More pipelines from properties")
        Map<String, Map<String, String>> byId = new TreeMap<>();
        settings().forEach((key, value) -> {
                    String name = key.toString();
                    int close = name.indexOf("].");
                    if (LintCamel.isRouteTemplateKey(name) && close > 0) {
                        byId.computeIfAbsent(name.substring(name.indexOf('[') + 1, close), id -> new HashMap<>())
                                .put(name.substring(close + 2), name + "=" + value);
                    }
                });
        byId.forEach((routeId, values) -> {
            String templateId = Optional.ofNullable(values.get("templateId")).map(v -> v.substring(v.indexOf('=') + 1))
                    .orElse("");
            if (!templateId.equals(aggregate.template())) {
                return;
            }
            String given = values.get(parameter);
            if (given != null) {
                String key = given.substring(0, given.indexOf('='));
                Problem at = propertyLine(key, "").orElse(new Problem(propertiesFile, 1, 1, ""));
                instanceBatchSize(aggregate, scalar, template, parameter, routeId, at, key,
                        given.substring(given.indexOf('=') + 1), max);
            } else {
                instanceBatchSize(aggregate, scalar, template, parameter, routeId, null, null, null, max);
            }
        });
    }

    /**
     * The batch size of one route made from the aggregate's template: the value it was given (at {@code givenAt},
     * written as {@code givenName}), or else the template's default, reported at the aggregate's completionSize.
     */
    private void instanceBatchSize(Aggregate aggregate, ScalarNode completionSize, Node template, String parameter,
                                   String routeId, Problem givenAt, String givenName, String givenValue, int max) {
        if (givenValue != null) {
            batchSize(givenAt, givenName, givenValue, " in route " + routeId + ", its completionSize (at "
                                                      + YamlFile.where(aggregate.file().path, completionSize) + ")",
                    max);
        } else {
            defaultValue(template, parameter).ifPresent(v -> batchSize(aggregate.file().problem(completionSize, ""),
                    "completionSize", v, " in route " + routeId + " (the default of " + parameter + ")", max));
        }
    }

    private static Optional<String> defaultValue(Node template, String parameter) {
        return items(get(template, "parameters").orElse(null)).stream()
                .filter(p -> parameter.equals(text(p, "name").orElse(null)))
                .findFirst().flatMap(p -> text(p, "defaultValue"));
    }

    private static Optional<String> templateParameter(String value) {
        Matcher matcher = PLACEHOLDER.matcher(value);
        return matcher.matches() ? Optional.of(matcher.group(1).trim()) : Optional.empty();
    }

    private int maxBatchSize() {
        // the lint's context has the defaults (PortalDefaults); a value that is not a number checks against the default
        String defaultValue = PortalDefaults.of(MAX_BATCH_SIZE);
        try {
            return Integer.parseInt(properties.resolveProperty(MAX_BATCH_SIZE).map(String::trim).orElse(defaultValue));
        } catch (NumberFormatException e) {
            return Integer.parseInt(defaultValue);
        }
    }

    /** One resolved completionSize; the problem is put where the wrong number is written. */
    private void batchSize(Problem at, String name, String written, String context, int max) {
        String resolved = resolve(written, Set.of());
        Problem where = at;
        String origin = "";
        Matcher placeholder = PLACEHOLDER.matcher(written);
        if (placeholder.find() && !resolved.equals(written)) {
            String key = placeholder.group(1).trim().replaceFirst("^\\?", "").replaceFirst(":.*", "");
            Optional<Problem> inProperties = propertyLine(key, "");
            origin = " (" + key + " = " + resolved.trim() + ")";
            if (inProperties.isPresent()) {
                where = inProperties.get();
            }
        }
        int value;
        try {
            value = Integer.parseInt(resolved.trim());
        } catch (NumberFormatException e) {
            // a number written wrong is the schema's finding; one a placeholder resolved to is ours
            if (!resolved.equals(written) && !PLACEHOLDER.matcher(resolved).find()) {
                problems.add(new Problem(where.file(), where.line(), where.column(), name + " \"" + written + "\""
                                                                                     + origin + " is not a whole number"
                                                                                     + context));
            }
            return;
        }
        if (value < 1 || value > max) {
            String why = value < 1 ? "0 or less turns the size off: a whole request would become one document"
                    : "more than " + max + " events in one document; raise " + MAX_BATCH_SIZE + " to allow it";
            problems.add(new Problem(where.file(), where.line(), where.column(),
                    name + " \"" + written + "\"" + origin + " is " + value + context
                    + ": a batch holds 1 to " + max + " events (" + why + ")"));
        }
    }

    // ---- application.properties ---------------------------------------------------------------------------------

    private Properties settings() {
        try {
            return LintCamel.settings(propertiesFile);
        } catch (IOException e) {
            return new Properties();
        }
    }

    /** Where a key is set (last) in application.properties: that value is the one used. */
    Optional<Problem> propertyLine(String key, String message) {
        List<Integer> lines = propertyKeys().get(key);
        return lines == null ? Optional.empty()
                : Optional.of(new Problem(propertiesFile, lines.get(lines.size() - 1), 1, message));
    }

    /** Every key of application.properties and the lines that set it (java.util.Properties keeps only the last). */
    private Map<String, List<Integer>> propertyKeys() {
        Map<String, List<Integer>> keys = new LinkedHashMap<>();
        if (propertiesFile == null || !Files.isRegularFile(propertiesFile)) {
            return keys;
        }
        try {
            List<String> lines = Files.readAllLines(propertiesFile, StandardCharsets.ISO_8859_1);
            boolean continued = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                boolean wasContinued = continued;
                continued = line.endsWith("\\") && !line.endsWith("\\\\");
                if (wasContinued || line.isEmpty() || line.startsWith("#") || line.startsWith("!")) {
                    continue;
                }
                Properties one = new Properties();
                one.load(new java.io.StringReader(line.endsWith("\\") ? line.substring(0, line.length() - 1) : line));
                for (String key : one.stringPropertyNames()) {
                    keys.computeIfAbsent(key, k -> new ArrayList<>()).add(i + 1);
                }
            }
        } catch (IOException e) {
            return keys;
        }
        return keys;
    }

    private void duplicatePropertyKeys() {
        propertyKeys().forEach((key, lines) -> {
            for (int i = 1; i < lines.size(); i++) {
                problems.add(new Problem(propertiesFile, lines.get(i), 1, "key " + key + " is set twice (first at line "
                                                                          + lines.get(0) + "): only this last value"
                                                                          + " is used"));
            }
        });
    }
}
