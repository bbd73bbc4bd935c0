package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.metropia.portal.messaging.dev.RouteFileReloader;
import com.metropia.portal.messaging.dev.RouteReloadConfiguration;
import com.metropia.portal.messaging.lint.RouteLint;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The quick-start run reloads routes/ on save: a good edit takes effect without a restart; a broken one is reported
 * with its file and line while the previous routes keep serving.
 */
class RouteReloadTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private final HttpClient http = HttpClient.newHttpClient();

    private Path routes;

    @Test
    void should_apply_a_saved_edit_and_keep_serving_through_a_broken_one() throws Exception {
        routes = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "reload-routes");
        PortalService.copyRoutes(routes);
        Map<String, String> properties = PortalService.emulatorProperties(emulators,
                emulators.createQueue("reload"), "portal_reload");
        properties.put("camel.main.routes-include-pattern", "file:" + routes + "/*.camel.yaml");
        // as in application-embedded.properties, on the copy
        properties.put("portal.dev.routes-reload-directory", routes.toString());
        try (PortalService service = PortalService.start(properties, RouteReloadConfiguration.class);
             CapturedLogs reloadLog = CapturedLogs.of(RouteFileReloader.class.getName(), Level.INFO)) {
            assertThat(documentsFor(service, 3)).isEqualTo(1);

            save("value: \"{{portal.events.batch-size:500}}\"", "value: \"2\"");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                    .until(() -> documentsFor(service, 3) == 2);

            int line = save("- aggregate:", "- aggregatte:");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reloadLog.lines())
                    .anySatisfy(text -> assertThat(text).contains("events.camel.yaml:" + line + ":")
                            .contains("aggregatte")));
            assertThat(documentsFor(service, 3)).as("the previous routes still serve").isEqualTo(2);
        }
    }

    /** Saves events.camel.yaml with the first occurrence replaced, as an editor would; returns the line. */
    private int save(String from, String to) throws IOException {
        Path file = routes.resolve("events.camel.yaml");
        List<String> lines = Files.readAllLines(file);
        int line = 0;
        while (!lines.get(line).contains(from)) {
            line++;
        }
        lines.set(line, lines.get(line).replace(from, to));
        // as editors save: a new file moved over the old one, so the watcher never reads it half-written
        Path saved = Files.write(Files.createTempFile(routes.getParent(), "events", ".tmp"), lines);
        Files.move(saved, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return line + 1;
    }

    private int documentsFor(PortalService service, int events) throws IOException, InterruptedException {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < events; i++) {
            body.append(i == 0 ? "" : ",").append("{\"userIds\":[\"1\"],\"eventName\":\"x\",\"eventMeta\":{}}");
        }
        HttpResponse<String> response = http.send(service.request("/api/events")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.append(']').toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body()).get("documents").asInt();
    }
}
