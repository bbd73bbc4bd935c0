package com.metropia.portal.messaging;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.metropia.portal.messaging.lint.RouteLint;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The offline lint of routes/: the routes as they are pass; every mistake of every file is reported in one run, each
 * at its file, line and column, quoting what is wrong.
 */
class RouteLintTest {

    @TempDir
    Path routes;

    private Path properties;

    @BeforeEach
    void copyRoutes() throws IOException {
        PortalService.copyRoutes(routes);
        properties = routes.resolve("application.properties");
        Files.copy(Path.of("application.properties"), properties);
    }

    @Test
    void should_find_no_problem_in_the_routes_as_they_are() throws IOException {
        assertThat(RouteLint.lint(RouteLint.routeFiles(Path.of("routes")))).isEmpty();
    }

    @Test
    void should_report_a_completion_size_that_is_not_a_number_at_its_line() throws IOException {
        int line = edit("events", "completionSize: \"{{batchSize}}\"", "completionSize: five hundred");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line);
            assertThat(problem.message()).contains("number expected");
        });
    }

    @Test
    void should_report_a_misspelt_eip_at_its_line_and_column() throws IOException {
        int line = edit("events", "- aggregate:", "- aggregatte:");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line, Problem::column)
                    .containsExactly(file("events"), line, column("events", line, "aggregatte"));
            assertThat(problem.message()).contains("'aggregatte'").contains("not a known key");
        });
    }

    @Test
    void should_report_an_unknown_component_at_its_line() throws IOException {
        int line = edit("events", "uri: \"mongodb:portalMongoClient\"", "uri: \"mongdb:portalMongoClient\"");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line);
            assertThat(problem.message()).contains("'mongdb'").contains("\"mongdb:portalMongoClient\"");
        });
    }

    @Test
    void should_report_an_unknown_endpoint_option_at_its_key_with_a_suggestion() throws IOException {
        int line = edit("events", "operation: insert", "operaton: insert");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line, Problem::column)
                    .containsExactly(file("events"), line, column("events", line, "operaton"));
            assertThat(problem.message()).contains("'operaton'").contains("did you mean operation");
        });
    }

    @Test
    void should_report_an_unresolvable_placeholder_at_its_line_and_column() throws IOException {
        int line = edit("events", "value: \"{{portal.events.batch-size}}\"", "value: \"{{portal.events.batchsize}}\"");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line, Problem::column)
                    .containsExactly(file("events"), line, column("events", line, "{{portal.events.batchsize}}"));
            assertThat(problem.message()).contains("{{portal.events.batchsize}}");
        });
    }

    @Test
    void should_report_broken_yaml_at_its_line() throws IOException {
        int line = edit("events", "    id: incentive-event-batcher", "    id: [incentive-event-batcher");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line);
            assertThat(problem.message()).startsWith("YAML syntax");
        });
    }

    @Test
    void should_report_broken_simple_expressions_of_two_files_in_one_run_each_quoted_at_its_line() throws IOException {
        int events = edit("events", "\"${exchangeProperty.CamelSplitComplete} == true\"",
                "\"${exchangeProperty.CamelSplitComplete == true\"");
        int tasks = edit("tasks", "\"${exchangeProperty.portalTaskReplay} != null\"",
                "\"${exchangeProperty.portalTaskReplay != null\"");

        assertThat(lint()).satisfiesExactly(
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line, Problem::column)
                            .containsExactly(file("events"), events,
                                    column("events", events, "${exchangeProperty.CamelSplitComplete ==") + 41);
                    // Camel's own parser finds the end missing at the 42nd character of the expression
                    assertThat(problem.message()).contains("\"${exchangeProperty.CamelSplitComplete == true\"")
                            .contains("at character 42");
                },
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("tasks"), tasks);
                    assertThat(problem.message()).contains("\"${exchangeProperty.portalTaskReplay != null\"");
                });
    }

    @Test
    void should_report_every_mistake_of_every_file_in_one_run() throws IOException {
        int aggregate = edit("events", "- aggregate:", "- aggregatte:");
        int operation = edit("events", "operation: insert", "operaton: insert");
        int bean = edit("tasks", "ref: portalTaskKeys", "ref: portalTaskKey");
        int exception = edit("http-api", "- com.metropia.portal.messaging.PayloadTooLargeException",
                "- com.metropia.portal.messaging.PayloadTooLarge");

        assertThat(lint()).extracting(p -> p.file().getFileName() + ":" + p.line()).containsExactly(
                "events.camel.yaml:" + aggregate, "events.camel.yaml:" + operation,
                "http-api.camel.yaml:" + exception, "tasks.camel.yaml:" + bean);
    }

    @Test
    void should_report_a_route_id_used_twice_where_the_second_one_is() throws IOException {
        int first = line("http-api", "id: http-tasks");
        int second = edit("http-api", "id: http-events", "id: http-tasks");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line, Problem::column)
                    .containsExactly(file("http-api"), second, column("http-api", second, "http-tasks"));
            assertThat(problem.message()).contains("'http-tasks'").contains("http-api.camel.yaml:" + first);
        });
    }

    @Test
    void should_report_a_key_given_twice_in_one_map() throws IOException {
        int line = edit("events", "eagerCheckCompletion: true",
                "eagerCheckCompletion: true\n                    completionSize: 100");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line + 1);
            assertThat(problem.message()).contains("'completionSize'").contains("twice");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1"})
    void should_report_a_completion_size_of_0_or_less_written_in_the_route(String size) throws IOException {
        int line = edit("events", "completionSize: \"{{batchSize}}\"", "completionSize: " + size);

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line);
            assertThat(problem.message()).contains("completionSize \"" + size + "\"").contains("1 to 500");
        });
    }

    @Test
    void should_report_a_batch_size_of_0_given_by_the_templated_route_where_it_is_given() throws IOException {
        int line = edit("events", "value: \"{{portal.events.batch-size}}\"", "value: \"0\"");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line);
            assertThat(problem.message()).contains("batchSize \"0\" is 0 in route incentive-events");
        });
    }

    @Test
    void should_report_a_batch_size_of_0_from_application_properties_at_its_line_there() throws IOException {
        int line = editProperties("# portal.events.batch-size = 500", "portal.events.batch-size = 0");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(properties, line);
            assertThat(problem.message()).contains("portal.events.batch-size = 0").contains("1 to 500");
        });
    }

    @Test
    void should_check_a_pipeline_made_from_properties_like_the_routes_and_report_it_in_application_properties()
            throws IOException {
        int line = editProperties("portal.events.batch-size = 500", "portal.events.batch-size = 500\n"
                                  + "camel.routeTemplate[milestone-events].templateId = incentive-event-batcher\n"
                                  + "camel.routeTemplate[milestone-events].from = direct:milestones\n"
                                  + "camel.routeTemplate[milestone-events].batchSize = 0") + 3;

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(properties, line);
            assertThat(problem.message()).contains("batchSize \"0\" is 0 in route milestone-events");
        });

        editProperties("templateId = incentive-event-batcher", "templateId = incentive-event-batchr");
        editProperties("batchSize = 0", "batchSize = 2");
        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(properties, line - 2);
            assertThat(problem.message()).contains("incentive-event-batchr");
        });
    }

    @Test
    void should_report_a_batch_larger_than_500_unless_the_configuration_allows_it() throws IOException {
        editProperties("# portal.events.batch-size = 500", "portal.events.batch-size = 1000");

        assertThat(lint()).singleElement().satisfies(problem ->
                assertThat(problem.message()).contains("is 1000").contains("portal.events.max-batch-size"));

        editProperties("# portal.events.max-batch-size = 500", "portal.events.max-batch-size = 1000");
        assertThat(lint()).isEmpty();
    }

    @Test
    void should_report_a_key_set_twice_in_application_properties() throws IOException {
        int line = editProperties("# portal.events.batch-size = 500",
                "portal.events.batch-size = 500\nportal.events.batch-size = 400") + 1;

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(properties, line);
            assertThat(problem.message()).contains("portal.events.batch-size").contains("twice");
        });
    }

    @Test
    void should_report_settings_the_service_would_not_start_with_and_still_check_every_file() throws IOException {
        editProperties("# portal.sqs.max-message-bytes = 1048576", "portal.sqs.max-message-bytes = 0");
        int line = edit("tasks", "operation: insert", "operaton: insert");

        assertThat(lint()).satisfiesExactly(
                problem -> assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("tasks"),
                        line),
                problem -> {
                    assertThat(problem.file()).isEqualTo(properties);
                    assertThat(problem.message()).contains("does not start").contains("portal.sqs.max-message-bytes");
                });
    }

    @Test
    void should_report_an_unknown_bean_and_method_at_their_lines() throws IOException {
        int bean = edit("tasks", "ref: portalTaskKeys", "ref: portalTaskKey");
        int processor = edit("tasks", "ref: portalTaskReply", "ref: portalTaskReplies");
        int method = edit("events", "method: \"request(", "method: \"requst(");

        assertThat(lint()).satisfiesExactly(
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), method);
                    assertThat(problem.message()).contains("'portalEvents'").contains("no public method 'requst'");
                },
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("tasks"),
                            processor);
                    assertThat(problem.message()).contains("no bean named 'portalTaskReplies'");
                },
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("tasks"), bean);
                    assertThat(problem.message()).contains("no bean named 'portalTaskKey'");
                });
    }

    @Test
    void should_report_what_camel_refuses_while_building_a_route_at_the_value_it_names() throws IOException {
        int line = edit("events", "executorService: \"#portalSynchronousExecutor\"", "executorService: \"#portalJson\"");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"), line);
            assertThat(problem.message()).contains("route incentive-events").contains("#portalJson");
        });
    }

    @Test
    void should_report_every_route_camel_refuses_in_one_file_in_one_run() throws IOException {
        int executor = edit("events", "executorService: \"#portalSynchronousExecutor\"", "executorService: \"#portalJson\"");
        int redelivery = edit("events", "redeliveryPolicyRef: portalMongoRedelivery", "redeliveryPolicyRef: portalJson");

        assertThat(lint()).satisfiesExactly(
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(file("events"),
                            executor);
                    assertThat(problem.message()).contains("route incentive-events").contains("#portalJson");
                },
                problem -> {
                    assertThat(problem).extracting(Problem::file, Problem::line, Problem::column)
                            .containsExactly(file("events"), redelivery, column("events", redelivery, "portalJson"));
                    assertThat(problem.message()).contains("route event-batch-insert").contains("RedeliveryPolicy");
                });
    }

    /** An application that includes the routes of the jar without the HTTP modules: which file needs which. */
    @Test
    void should_say_which_dependency_the_http_file_needs_on_a_class_path_without_the_http_modules() throws Exception {
        Pattern http = Pattern.compile("vertx|platform-http|observability|micrometer|prometheus|telemetry|netty");
        List<URL> withoutHttp = new ArrayList<>();
        for (String entry : testClassPath()) {
            if (!http.matcher(new File(entry).getName()).find()) {
                withoutHttp.add(new File(entry).toURI().toURL());
            }
        }
        List<String> problems = new ArrayList<>();
        try (URLClassLoader host = new URLClassLoader(withoutHttp.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            assertThat(host.getResource("io/vertx/ext/web/RoutingContext.class")).isNull();
            Class<?> lint = host.loadClass(RouteLint.class.getName());
            Method routeFiles = lint.getMethod("routeFiles", Path.class);
            Method run = lint.getMethod("lint", List.class, Path.class);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(host);
            try {
                for (Object problem : (List<?>) run.invoke(null, routeFiles.invoke(null, routes), properties)) {
                    problems.add(problem.toString());
                }
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        }

        assertThat(problems).isNotEmpty().allSatisfy(problem -> assertThat(problem)
                .startsWith(file("http-api").toString())
                .contains("org.apache.camel:camel-platform-http-vertx and org.apache.camel:camel-platform-http-main"));
        assertThat(problems).anySatisfy(problem -> assertThat(problem)
                .startsWith(file("http-api") + ":" + line("http-api", "type: com.metropia.portal.messaging"
                                                                      + ".http.ApiKeyAuthentication") + ":")
                .contains("io.vertx.ext.web.RoutingContext"));
    }

    @Test
    void should_print_each_problem_and_exit_1_through_the_main_class_of_the_jar() throws Exception {
        int line = edit("events", "- aggregate:", "- aggregatte:");
        Process lint = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", String.join(File.pathSeparator, testClassPath()),
                PortalMessagingApplication.class.getName(), "lint", routes.toString())
                .redirectErrorStream(true).start();
        assertThat(lint.waitFor(120, TimeUnit.SECONDS)).as("the lint finished").isTrue();
        String output = new String(lint.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(output).isEqualTo(file("events") + ":" + line + ":" + column("events", line, "aggregatte")
                                     + ": property 'aggregatte' is not a known key here (a typo?)\n"
                                     + "3 route files checked in " + routes + ": 1 problem(s)\n");
        assertThat(lint.exitValue()).isEqualTo(1);
    }

    /** Editors validate the route files against the YAML DSL schema of the Camel version on the class path. */
    @Test
    void should_name_in_every_route_file_the_yaml_dsl_schema_of_the_camel_version_in_use() throws IOException {
        byte[] shipped;
        try (InputStream in = RouteLint.class.getClassLoader().getResourceAsStream("schema/camelYamlDsl.json")) {
            shipped = in.readAllBytes();
        }
        for (Path file : RouteLint.routeFiles(Path.of("routes"))) {
            String first = Files.readAllLines(file).get(0);
            assertThat(first).startsWith("# yaml-language-server: $schema=");
            Path schema = file.getParent().resolve(first.substring(first.indexOf('=') + 1)).normalize();
            assertThat(schema).as("the schema named by " + file).exists();
            assertThat(Files.readAllBytes(schema)).isEqualTo(shipped);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private List<Problem> lint() throws IOException {
        return RouteLint.lint(RouteLint.routeFiles(routes), properties);
    }

    private Path file(String name) {
        return routes.resolve(name + ".camel.yaml");
    }

    /** Replaces the first occurrence in the route file and returns its line (1-based). */
    private int edit(String name, String from, String to) throws IOException {
        return replace(file(name), from, to);
    }

    private int editProperties(String from, String to) throws IOException {
        return replace(properties, from, to);
    }

    private static int replace(Path file, String from, String to) throws IOException {
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(from)) {
                lines.set(i, lines.get(i).replace(from, to));
                Files.write(file, lines);
                return i + 1;
            }
        }
        throw new AssertionError(from + " is not in " + file);
    }

    private int line(String name, String text) throws IOException {
        List<String> lines = Files.readAllLines(file(name));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError(text + " is not in " + name);
    }

    private int column(String name, int line, String text) throws IOException {
        return Files.readAllLines(file(name)).get(line - 1).indexOf(text) + 1;
    }

    /** Surefire may start the tests from a manifest-only jar: its own property holds the real entries. */
    private static List<String> testClassPath() {
        String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return List.of(path.split(Pattern.quote(File.pathSeparator)));
    }
}
