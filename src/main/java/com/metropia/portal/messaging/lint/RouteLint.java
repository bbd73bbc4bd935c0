package com.metropia.portal.messaging.lint;

import com.metropia.portal.messaging.config.PortalDefaults;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import com.metropia.portal.messaging.InvalidConfigurationException;
import com.metropia.portal.messaging.events.EventTypeSchemas;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.util.ObjectHelper;

/**
 * Checks the YAML routes offline, every problem of every file in one run: YAML syntax and keys given twice, the Camel
 * YAML DSL schema, simple expressions, endpoint options, placeholders, beans and classes, route ids, the events batch
 * size, and finally that each file loads in Camel; and the event type schemas beside them ({@code event-types/}).
 * Needs no SQS, MongoDB or network. Prints
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

    private RouteLint() {
    }

    /** {@code java -jar target/portal-messaging.jar lint [dir]}, or {@code mvn -q compile exec:java@lint}. */
    public static void main(String[] args) throws Exception {
        // Camel's own start-up log would bury the findings.
        System.setProperty("log4j2.configurationFile", "classpath:portal-messaging/log4j2-lint.properties");
        Path dir = Path.of(args.length > 0 ? args[0] : "routes");
        if (!Files.isDirectory(dir)) {
            System.out.println(dir + ": no such folder");
            System.exit(2);
        }
        List<Path> files = routeFiles(dir);
        List<Problem> problems = lint(files);
        problems.forEach(System.out::println);
        int schemas = EventTypeFiles.folder(dir, Path.of("application.properties")).map(folder -> {
            try {
                return EventTypeFiles.in(folder).size();
            } catch (IOException e) {
                return 0;
            }
        }).orElse(0);
        System.out.println(files.size() + " route files" + (schemas == 0 ? "" : " and " + schemas + " event type schemas")
                           + " checked in " + dir + ": "
                           + (problems.isEmpty() ? "no problems" : problems.size() + " problem(s)"));
        System.exit(problems.isEmpty() ? 0 : 1);
    }

    public static List<Path> routeFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".camel.yaml")).sorted().toList();
        }
    }

    /** Every problem of the files, with the settings of application.properties in the working directory. */
    public static List<Problem> lint(List<Path> files) throws IOException {
        return lint(files, Path.of("application.properties"));
    }

    /** Every problem of the files, with the settings of the given properties file (and the environment). */
    public static List<Problem> lint(List<Path> files, Path applicationProperties) throws IOException {
        // The event type schemas beside the routes (routes/event-types), as the service reads them at start-up; beside
        // the routes' checks, which wait mostly on Camel.
        CompletableFuture<List<Problem>> eventTypes = CompletableFuture.supplyAsync(() -> {
            List<Problem> found = new ArrayList<>();
            for (Path routesDir : files.stream().map(f -> f.getParent() == null ? Path.of("") : f.getParent())
                    .distinct().toList()) {
                try {
                    Path folder = EventTypeFiles.folder(routesDir, applicationProperties).orElse(null);
                    if (folder != null && !folder.equals(routesDir.resolve(EventTypeSchemas.FOLDER))
                        && !Files.isDirectory(folder)) {
                        found.add(new Problem(applicationProperties,
                                EventTypeFiles.lineOf(applicationProperties, EventTypeSchemas.TYPES_DIR), 1,
                                EventTypeSchemas.TYPES_DIR + " names a folder that does not exist: " + folder));
                    } else if (folder != null) {
                        found.addAll(EventTypeFiles.check(EventTypeFiles.in(folder)));
                    }
                } catch (IOException e) {
                    found.add(new Problem(routesDir.resolve(EventTypeSchemas.FOLDER), 1, 1,
                            "cannot be read: " + e.getMessage()));
                }
            }
            return found;
        });
        List<Problem> problems = new ArrayList<>(lintRoutes(files, applicationProperties));
        problems.addAll(eventTypes.join());
        return sorted(files, problems);
    }

    private static List<Problem> lintRoutes(List<Path> files, Path applicationProperties) throws IOException {
        // Compiling the DSL schema and booting Camel are the two slow parts: side by side.
        CompletableFuture<?> schema = CompletableFuture.runAsync(SchemaCheck::schema);
        List<Problem> problems = new ArrayList<>();
        List<YamlFile> parsed = new ArrayList<>();
        for (Path file : files) {
            YamlFile yaml = YamlFile.read(file);
            problems.addAll(yaml.syntax);
            if (yaml.parsed()) {
                parsed.add(yaml);
            }
        }
        if (parsed.isEmpty()) {
            return sorted(files, problems);
        }
        LintCamel camel;
        try {
            camel = LintCamel.boot(applicationProperties);
        } catch (Exception e) {
            // The service would not start with these settings either: say so, each reason at the setting it names
            // unless a check below reports that setting already, and check what needs no service.
            InvalidConfigurationException invalid = ObjectHelper.getException(InvalidConfigurationException.class, e);
            List<String> reasons = invalid != null ? invalid.getProblems() : List.of(LintCamel.rootMessage(e));
            try (DefaultCamelContext bare = new DefaultCamelContext()) {
                bare.getPropertiesComponent().setLocation("file:" + applicationProperties + ";optional=true");
                PortalDefaults.addTo(bare.getPropertiesComponent());
                LintCamel.STAND_IN_SETTINGS.forEach(bare.getPropertiesComponent()::addOverrideProperty);
                RouteChecks checks = new RouteChecks(bare, false, parsed, applicationProperties);
                List<Problem> found = checks.run();
                problems.addAll(found);
                for (String reason : reasons) {
                    String key = reason.split("[ ,:]", 2)[0];
                    if (found.stream().noneMatch(p -> p.message().contains(key))) {
                        String message = "the service does not start with these settings: " + reason;
                        problems.add(checks.propertyLine(key, message)
                                .orElse(new Problem(applicationProperties, 1, 1, message)));
                    }
                }
            }
            schema.join();
            parsed.forEach(yaml -> problems.addAll(SchemaCheck.check(yaml)));
            return sorted(files, problems);
        }
        try (camel) {
            RouteChecks checks = new RouteChecks(camel.context, true, parsed, applicationProperties);
            problems.addAll(checks.run());
            schema.join();
            for (YamlFile yaml : parsed) {
                problems.addAll(SchemaCheck.check(yaml));
            }
            // What Camel itself refuses when it builds the routes; a file with a problem found above would only fail
            // again on it.
            for (YamlFile yaml : parsed) {
                if (problems.stream().noneMatch(p -> p.file().equals(yaml.path))) {
                    problems.addAll(camel.load(yaml));
                }
            }
            if (problems.isEmpty()) {
                problems.addAll(camel.addRoutesFromProperties(applicationProperties, (key, message) ->
                        checks.propertyLine(key, message).orElse(new Problem(applicationProperties, 1, 1, message))));
            }
        }
        return sorted(files, problems);
    }

    private static List<Problem> sorted(List<Path> files, List<Problem> problems) {
        List<Problem> unique = new ArrayList<>(new LinkedHashSet<>(problems));
        unique.sort(Comparator.comparingInt((Problem p) -> files.contains(p.file()) ? files.indexOf(p.file())
                        : files.size())
                .thenComparing(p -> p.file().toString()).thenComparingInt(Problem::line).thenComparingInt(Problem::column));
        return unique;
    }
}
