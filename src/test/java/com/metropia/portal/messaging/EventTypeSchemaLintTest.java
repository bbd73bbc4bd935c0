package com.metropia.portal.messaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.metropia.portal.messaging.lint.RouteLint;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The route lint checks the event type schemas beside the routes (event-types/): every problem of every file in one
 * run, each at its file, line and column, as the service would refuse them at start-up.
 */
class EventTypeSchemaLintTest {

    @TempDir
    Path routes;

    private Path types;
    private Path properties;

    @BeforeEach
    void copyRoutesAndTypes() throws IOException {
        PortalService.copyRoutes(routes);
        types = Files.createDirectory(routes.resolve("event-types"));
        try (Stream<Path> shipped = Files.list(Path.of("routes", "event-types"))) {
            for (Path file : shipped.toList()) {
                Files.copy(file, types.resolve(file.getFileName()));
            }
        }
        properties = routes.resolve("application.properties");
        Files.copy(Path.of("application.properties"), properties);
    }

    @Test
    void should_find_no_problem_in_the_shipped_schemas() throws IOException {
        assertThat(types.toFile().list()).contains("trip_completed.schema.json", "user_registration.schema.json",
                "payment_completed.schema.json");

        assertThat(lint()).isEmpty();
    }

    @Test
    void should_report_every_problem_of_every_schema_file_in_one_run_at_its_line_and_column() throws IOException {
        // a trailing comma: line 3, where the parser meets the closing brace
        Files.writeString(types.resolve("badge_earned.schema.json"), "{\n  \"type\": \"object\",\n}\n");
        // a key given twice
        Files.writeString(types.resolve("level_up.schema.json"),
                "{\n  \"type\": \"object\",\n  \"required\": [],\n  \"type\": \"array\"\n}\n");
        // not a JSON Schema: a misspelt type and a negative minLength
        Files.writeString(types.resolve("points_spent.schema.json"), """
                {
                  "type": "object",
                  "properties": {
                    "amount": {"type": "numbr"},
                    "reason": {"type": "string", "minLength": -1}
                  }
                }
                """);
        // a reference the service would fetch from the network
        Files.writeString(types.resolve("coupon_used.schema.json"),
                "{\n  \"properties\": {\"coupon\": {\"$ref\": \"https://example.com/coupon.json\"}}\n}\n");
        // names that are no eventName
        Files.writeString(types.resolve("Trip Completed.schema.json"), "{}");
        Files.writeString(types.resolve("ride_booked.json"), "{}");

        List<Problem> problems = lint();

        assertThat(problems).extracting(p -> routes.relativize(p.file()) + ":" + p.line() + ":" + p.column())
                .containsExactly(
                        "event-types/Trip Completed.schema.json:1:1",
                        "event-types/badge_earned.schema.json:3:1",
                        "event-types/coupon_used.schema.json:2:37",
                        "event-types/level_up.schema.json:4:9",
                        "event-types/points_spent.schema.json:4:24",
                        "event-types/points_spent.schema.json:5:47",
                        "event-types/ride_booked.json:1:1");
        assertThat(problems.get(0).message()).contains("'Trip Completed' is not a plausible eventName");
        assertThat(problems.get(1).message()).startsWith("not valid JSON");
        assertThat(problems.get(2).message()).contains("\"https://example.com/coupon.json\" points outside this file");
        assertThat(problems.get(3).message()).contains("Duplicate field 'type'");
        assertThat(problems.get(4).message()).startsWith("not a valid JSON Schema").contains("enumeration");
        assertThat(problems.get(5).message()).startsWith("not a valid JSON Schema").contains("minimum");
        assertThat(problems.get(6).message()).contains("named <eventName>.schema.json");
    }

    @Test
    void should_report_schema_problems_beside_the_problems_of_the_routes() throws IOException {
        Files.writeString(types.resolve("badge_earned.schema.json"), "{\"$schema\": \"https://example.com/meta\"}");
        Path events = routes.resolve("events.camel.yaml");
        Files.writeString(events, Files.readString(events).replace("- aggregate:", "- aggregatte:"));

        assertThat(lint()).extracting(p -> routes.relativize(p.file()).toString())
                .containsExactly("events.camel.yaml", "event-types/badge_earned.schema.json");
        assertThat(lint().get(1).message()).contains("$schema \"https://example.com/meta\" is not a JSON Schema draft");
    }

    @Test
    void should_check_the_folder_portal_events_types_dir_names_instead_of_the_one_beside_the_routes() throws IOException {
        Path own = Files.createDirectory(routes.resolve("own-types"));
        Files.writeString(own.resolve("badge_earned.schema.json"), "{\n  \"minProperties\": \"one\"\n}");
        Files.writeString(types.resolve("not_read.schema.json"), "{ broken");
        Files.writeString(properties, Files.readString(properties) + "portal.events.types-dir = file:" + own + "\n");

        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem.file()).isEqualTo(own.resolve("badge_earned.schema.json"));
            assertThat(problem.line()).isEqualTo(2);
            assertThat(problem.message()).startsWith("not a valid JSON Schema");
        });

        Files.writeString(properties, Files.readString(properties).replace("portal.events.types-dir = file:" + own,
                "portal.events.types-dir = " + routes.resolve("none")));
        int line = Files.readAllLines(properties).size();
        assertThat(lint()).singleElement().satisfies(problem -> {
            assertThat(problem).extracting(Problem::file, Problem::line).containsExactly(properties, line);
            assertThat(problem.message()).contains("portal.events.types-dir names a folder that does not exist");
        });
    }

    private List<Problem> lint() throws IOException {
        return RouteLint.lint(RouteLint.routeFiles(routes), properties);
    }
}
