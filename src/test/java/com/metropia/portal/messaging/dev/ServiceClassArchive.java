package com.metropia.portal.messaging.dev;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Writes the class-data archive the service starts from ({@code java -XX:SharedArchiveFile=target/portal-messaging.jsa
 * -jar target/portal-messaging.jar}, README "Running against AWS SQS and MongoDB"): a training run of the packaged
 * jar, configured by environment variables only as in production, against in-process emulators, that serves a few
 * requests of each kind and is stopped with SIGTERM; the JVM writes the classes it loaded when it exits. A JVM started
 * from the archive maps those classes instead of finding, reading and verifying them in the jars: about half the CPU
 * of a start-up.
 * <p>
 * Run by {@code mvn package} ({@code -Dportal.class-archive.skip} skips it). The archive holds the paths of the jar and
 * of {@code target/lib}: a JVM given it for other jars, or another JDK, ignores it and starts as without it.
 * Arguments: the jar, the archive to write.
 */
public final class ServiceClassArchive {

    private static final String KEY = "class-archive-training";
    private static final Duration START = Duration.ofSeconds(180);

    private ServiceClassArchive() {
    }

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]).toAbsolutePath();
        Path archive = Path.of(args[1]).toAbsolutePath();
        Files.deleteIfExists(archive);
        Path home = Files.createTempDirectory("portal-class-archive");
        Path log = home.resolve("service.log");
        int exitCode;
        try (EmbeddedEmulators emulators = EmbeddedEmulators.start("127.0.0.1", 0, 0)) {
            exitCode = train(jar, archive, emulators, home, log);
        }
        if (exitCode == 0 && Files.isRegularFile(archive)) {
            System.out.printf("Class-data archive of the service: %s (%d MB)%n", archive, Files.size(archive) >> 20);
            deleteTree(home);
            System.exit(0);
        }
        System.err.println("No class-data archive was written (the training run ended with exit code " + exitCode
                           + "); what the service said:");
        System.err.println(Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(nothing)");
        System.exit(1);
    }

    private static int train(Path jar, Path archive, EmbeddedEmulators emulators, Path home, Path log)
            throws Exception {
        emulators.createQueue("portal-tasks");
        int port = EmbeddedEmulators.freePort("127.0.0.1");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-XX:ArchiveClassesAtExit=" + archive,
                "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar", jar.toString())
                // no application.properties there: the packed routes and environment variables, as in production
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.clear();
        environment.put("HOME", home.toString());
        environment.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        environment.put("AWS_EC2_METADATA_DISABLED", "true");
        // credentials from the AWS default chain, as in production
        environment.put("AWS_ACCESS_KEY_ID", EmbeddedEmulators.ACCESS_KEY);
        environment.put("AWS_SECRET_ACCESS_KEY", EmbeddedEmulators.SECRET_KEY);
        environment.put("PORTAL_SQS_REGION", EmbeddedEmulators.REGION);
        environment.put("PORTAL_SQS_ENDPOINT", emulators.sqsEndpoint());
        environment.put("PORTAL_SQS_QUEUE", "portal-tasks");
        environment.put("PORTAL_MONGODB_URI", emulators.mongoUri());
        environment.put("PORTAL_MONGODB_DATABASE", "class_archive_training");
        environment.put("PORTAL_API_KEYS", KEY);
        environment.put("PORTAL_HTTP_HOST", "127.0.0.1");
        environment.put("PORTAL_HTTP_PORT", Integer.toString(port));
        Process service = builder.start();
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
            awaitUp(service, http, URI.create("http://127.0.0.1:" + port + "/observe/health/ready"), log);
            for (int round = 0; round < 5; round++) {
                requests(http, "http://127.0.0.1:" + port, round);
            }
        } catch (RuntimeException | IOException e) {
            System.err.println("The training run failed: " + e.getMessage());
            service.destroyForcibly();
            service.waitFor(30, TimeUnit.SECONDS);
            return 1;
        }
        service.destroy();
        if (!service.waitFor(120, TimeUnit.SECONDS)) {
            service.destroyForcibly();
            return 1;
        }
        // 143: ended by the SIGTERM sent here, after writing the archive
        return service.exitValue() == 143 || service.exitValue() == 0 ? 0 : service.exitValue();
    }

    /** Waits until the service is ready, or fails when it ends or takes too long. */
    private static void awaitUp(Process service, HttpClient http, URI ready, Path log) throws Exception {
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!service.isAlive()) {
                throw new IllegalStateException("the service ended with exit code " + service.exitValue());
            }
            if (Files.readString(log, StandardCharsets.UTF_8).contains(") started in ")) {
                try {
                    HttpResponse<String> answer = http.send(HttpRequest.newBuilder(ready)
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    if (answer.statusCode() == 200) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the service was not ready within " + START.toSeconds() + " s");
    }

    /** One of each kind of request the service answers, each checked for the status it must get. */
    private static void requests(HttpClient http, String base, int round) throws Exception {
        List<String> wrong = new ArrayList<>();
        String task = "{\"action\":\"class_archive_training\",\"data\":{\"round\":" + round + "}}";
        String events = "[{\"userIds\":[\"1\",\"2\"],\"eventName\":\"class_archive_training\",\"eventMeta\":{\"round\":"
                        + round + "}}]";
        expect(wrong, http, post(base + "/api/tasks", task).header("X-API-Key", KEY), 202);
        expect(wrong, http, post(base + "/api/tasks", task).header("Authorization", "Bearer " + KEY)
                .header("Idempotency-Key", "class-archive-" + round), 202);
        expect(wrong, http, post(base + "/api/events", events).header("X-API-Key", KEY), 201);
        expect(wrong, http, post(base + "/api/events", events).header("X-API-Key", KEY)
                .header("Idempotency-Key", "class-archive-" + round), 201);
        expect(wrong, http, post(base + "/api/tasks", "{\"action\":").header("X-API-Key", KEY), 400);
        expect(wrong, http, post(base + "/api/events", "[{\"eventName\":1}]").header("X-API-Key", KEY), 400);
        expect(wrong, http, post(base + "/api/tasks", task), 401);
        expect(wrong, http, HttpRequest.newBuilder(URI.create(base + "/api/openapi.json")).header("X-API-Key", KEY),
                200);
        expect(wrong, http, HttpRequest.newBuilder(URI.create(base + "/observe/metrics")).header("X-API-Key", KEY),
                200);
        expect(wrong, http, HttpRequest.newBuilder(URI.create(base + "/observe/health")), 200);
        expect(wrong, http, post(base + "/api/nothing", task).header("X-API-Key", KEY), 404);
        if (!wrong.isEmpty()) {
            throw new IllegalStateException("unexpected answers: " + String.join("; ", wrong));
        }
    }

    private static HttpRequest.Builder post(String uri, String body) {
        return HttpRequest.newBuilder(URI.create(uri)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static void expect(List<String> wrong, HttpClient http, HttpRequest.Builder request, int status)
            throws Exception {
        HttpRequest built = request.timeout(Duration.ofSeconds(60)).build();
        HttpResponse<String> answer = http.send(built, HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != status) {
            wrong.add(built.method() + " " + built.uri().getPath() + ": " + answer.statusCode() + " instead of "
                      + status + " " + answer.body());
        }
    }

    /** A folder and everything in it. */
    public static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}
