package com.metropia.portal.messaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.metropia.portal.messaging.lint.RouteLint;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The offline lint of routes/: the routes as they are pass; each typo is reported at its line.
 */
class RouteLintTest {

    @TempDir
    Path routes;

    @BeforeEach
    void copyRoutes() throws IOException {
        PortalService.copyRoutes(routes);
    }

    @Test
    void should_find_no_problem_in_the_routes_as_they_are() throws IOException {
        assertThat(RouteLint.lint(RouteLint.routeFiles(Path.of("routes")))).isEmpty();
    }

    @Test
    void should_report_a_completion_size_that_is_not_a_number_at_its_line() throws IOException {
        int line = edit("completionSize: \"{{batchSize}}\"", "completionSize: five hundred");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(line);
            assertThat(problem.message()).contains("number expected");
        });
    }

    @Test
    void should_report_a_misspelt_eip_at_its_line() throws IOException {
        int line = edit("- aggregate:", "- aggregatte:");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(line);
            assertThat(problem.message()).contains("'aggregatte'").contains("not a known key");
        });
    }

    @Test
    void should_report_an_unknown_component_at_its_line() throws IOException {
        int line = edit("uri: \"mongodb:portalMongoClient\"", "uri: \"mongdb:portalMongoClient\"");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(line);
            assertThat(problem.message()).contains("mongdb");
        });
    }

    @Test
    void should_report_an_unknown_endpoint_option_at_its_line() throws IOException {
        int line = edit("operation: insert", "operaton: insert");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(line);
            assertThat(problem.message()).contains("operaton");
        });
    }

    @Test
    void should_report_an_unresolvable_placeholder_at_its_line() throws IOException {
        int line = edit("{{portal.events.batch-size:500}}", "{{portal.events.batchsize}}");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(line);
            assertThat(problem.message()).contains("portal.events.batchsize");
        });
    }

    @Test
    void should_report_broken_yaml_at_its_line() throws IOException {
        int line = edit("    id: incentive-event-batcher", "    id: [incentive-event-batcher");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.line()).isEqualTo(line);
            assertThat(problem.message()).startsWith("YAML syntax");
        });
    }

    private List<Problem> lint() throws IOException {
        List<Problem> problems = RouteLint.lint(RouteLint.routeFiles(routes));
        assertThat(problems).allSatisfy(problem -> assertThat(problem.file().getFileName())
                .hasToString("events.camel.yaml"));
        return problems;
    }

    /** Replaces the first occurrence in events.camel.yaml and returns its line (1-based). */
    private int edit(String from, String to) throws IOException {
        Path file = routes.resolve("events.camel.yaml");
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(from)) {
                lines.set(i, lines.get(i).replace(from, to));
                Files.write(file, lines);
                return i + 1;
            }
        }
        throw new AssertionError(from + " is not in events.camel.yaml");
    }
}
