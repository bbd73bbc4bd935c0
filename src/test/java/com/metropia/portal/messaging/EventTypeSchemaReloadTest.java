package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.metropia.portal.messaging.dev.RouteFileReloader;
import com.metropia.portal.messaging.dev.RouteReloadConfiguration;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The quick-start run reloads the event type schemas when one is saved: a new or edited file checks the next requests
 * without a restart; a broken one is reported at its line and column while the schemas in use keep checking.
 */
class EventTypeSchemaReloadTest {

    private static final String BAD_BADGE = """
            [{"userIds": ["1"], "eventName": "badge_earned", "eventMeta": {"badge": "tin"}}]""";

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private Path types;

    @Test
    void should_check_events_against_a_schema_file_saved_while_the_service_runs_and_keep_it_through_a_broken_one()
            throws Exception {
        Path routes = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "reload-types");
        PortalService.copyRoutes(routes);
        types = Files.createDirectory(routes.resolve("event-types"));
        Map<String, String> properties = PortalService.emulatorProperties(emulators,
                emulators.createQueue("reload-types"), "portal_reload_types");
        properties.put("camel.main.routes-include-pattern", "file:" + routes + "/*.camel.yaml");
        properties.put("portal.dev.routes-reload-directory", routes.toString());
        try (PortalService service = PortalService.start(properties, RouteReloadConfiguration.class);
             CapturedLogs reloadLog = CapturedLogs.of(RouteFileReloader.class.getName(), Level.INFO)) {
            assertThat(post(service, BAD_BADGE).statusCode()).as("no schema yet: accepted").isEqualTo(201);

            save("badge_earned.schema.json", """
                    {"type": "object", "properties": {"badge": {"enum": ["bronze", "silver", "gold"]}}}""");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                    .until(() -> post(service, BAD_BADGE).statusCode() == 400);
            assertThat(post(service, BAD_BADGE).body()).contains("eventMeta.badge");

            save("badge_earned.schema.json", "{\n  \"type\": \"objekt\"\n}");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reloadLog.lines())
                    .anySatisfy(line -> assertThat(line).contains("badge_earned.schema.json:2:11: not a valid JSON Schema")));
            assertThat(post(service, BAD_BADGE).statusCode()).as("the schema in use still checks").isEqualTo(400);
        }
    }

    private HttpResponse<String> post(PortalService service, String body) throws IOException, InterruptedException {
        return http.send(service.jsonPost("/api/events", body).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** As editors save: a new file moved over the old one, so the watcher never reads it half-written. */
    private void save(String name, String text) throws IOException {
        Path saved = Files.writeString(Files.createTempFile(types.getParent(), "schema", ".tmp"), text);
        Files.move(saved, types.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
