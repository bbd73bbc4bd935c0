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
import java.util.stream.Stream;

/**
 * The event type schemas beside the routes ({@code <routes>/event-types/*.json}), with the checks the service makes
 * when it reads them at start-up ({@link EventTypeSchemas#check}): the file name, the JSON, the schema against its
 * meta-schema. Every problem of every file, at its line and column.
 */
final class EventTypeFiles {

    private EventTypeFiles() {
    }

    /** The JSON files of the event-types folder beside the routes; none when there is no such folder. */
    static List<Path> of(Path routesDir) throws IOException {
        Path folder = routesDir.resolve(EventTypeSchemas.FOLDER);
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList();
        }
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
