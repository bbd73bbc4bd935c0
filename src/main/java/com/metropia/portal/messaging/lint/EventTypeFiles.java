package com.metropia.portal.messaging.lint;

import com.metropia.portal.messaging.events.EventTypeSchemas;
import com.metropia.portal.messaging.lint.RouteLint.Problem;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The event type schemas beside the routes ({@code <routes>/event-types/*.json}), with the checks the service makes
 * when it reads them at start-up ({@link EventTypeSchemas#check}): the file name, the JSON, the schema against its
 * meta-schema. Every problem of every file, at its line and column.
 */
final class EventTypeFiles {

    private EventTypeFiles() {
    }

    /**
     * The folder the service reads the schemas from: {@code portal.events.types-dir} (its environment variable, or
     * application.properties) when it names files, else {@code event-types} beside the routes. Empty for a folder of
     * the class path, which comes from a jar.
     */
    static Optional<Path> folder(Path routesDir, Path applicationProperties) throws IOException {
        String configured = System.getenv("PORTAL_EVENTS_TYPES_DIR");
        if (configured == null || configured.isBlank()) {
            configured = LintCamel.settings(applicationProperties).getProperty(EventTypeSchemas.TYPES_DIR);
        }
        if (configured == null || configured.isBlank() || configured.contains("{{")) {
            return Optional.of(routesDir.resolve(EventTypeSchemas.FOLDER));
        }
        String folder = configured.trim();
        if (folder.startsWith("classpath:")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(folder.startsWith("file:") ? folder.substring("file:".length()) : folder));
    }

    /** The JSON files of the event-types folder beside the routes; none when there is no such folder. */
    static List<Path> of(Path routesDir) throws IOException {
        return in(routesDir.resolve(EventTypeSchemas.FOLDER));
    }

    /** The JSON files of a folder of event type schemas; none when there is no such folder. */
    static List<Path> in(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    /** The line of application.properties that sets the key (the last one), or 1. */
    static int lineOf(Path applicationProperties, String key) throws IOException {
        if (!Files.isRegularFile(applicationProperties)) {
            return 1;
        }
        List<String> lines = Files.readAllLines(applicationProperties, StandardCharsets.ISO_8859_1);
        int found = 1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().matches(java.util.regex.Pattern.quote(key) + "\\s*[=:].*")) {
                found = i + 1;
            }
        }
        return found;
    }

    static List<Problem> check(List<Path> files) throws IOException {
        List<Problem> problems = new ArrayList<>();
        for (Path file : files) {
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
                        .toString();
            } catch (CharacterCodingException e) {
                problems.add(new Problem(file, 1, 1, "not UTF-8 text"));
                continue;
            }
            for (EventTypeSchemas.FileProblem problem : EventTypeSchemas.check(file.getFileName().toString(), text)
                    .problems()) {
                problems.add(new Problem(file, problem.line(), problem.column(), problem.message()));
            }
        }
        return problems;
    }
}
