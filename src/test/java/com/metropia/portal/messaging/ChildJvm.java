package com.metropia.portal.messaging;

import java.io.IOException;
import java.io.UncheckedIOException;
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

import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * A main class of the project in a JVM of its own, started from the project folder (application.properties, routes/)
 * with only the environment a test gives: nothing of this machine's {@code AWS_*} or {@code PORTAL_*} variables, and a
 * home folder that is empty, so that no {@code ~/.aws} profile gives a region or credentials.
 */
final class ChildJvm implements AutoCloseable {

    private final Process process;
    private final Path output;
    private final Path home;

    private ChildJvm(Process process, Path output, Path home) {
        this.process = process;
        this.output = output;
        this.home = home;
    }

    /** What a run that ended said, and its exit code. */
    record Outcome(int exitCode, String output) {
    }

    /** Runs the main class with the environment and waits for it to end, at most for the time given. */
    static Outcome run(Class<?> mainClass, Map<String, String> environment, Duration within) {
        try (ChildJvm child = start(mainClass, environment)) {
            if (!child.process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("%s did not end within %s; it said:%n%s", mainClass.getSimpleName(), within, child.output());
            }
            return new Outcome(child.process.exitValue(), child.output());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static ChildJvm start(Class<?> mainClass, Map<String, String> environment) {
        try {
            Path home = Files.createTempDirectory("portal-child-home");
            Path output = Files.createTempFile("portal-child", ".log");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    // a short-lived JVM: quick to start, little memory on a shared machine
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m",
                    "-Duser.home=" + home,
                    // surefire sets the test class path here (its manifest-only jar goes to surefire.real.class.path)
                    "-cp", System.getProperty("java.class.path"),
                    mainClass.getName()));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(Path.of("").toAbsolutePath().toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().clear();
            builder.environment().put("HOME", home.toString());
            // The AWS SDK would otherwise ask the EC2 metadata address for credentials, and wait for it
            builder.environment().put("AWS_EC2_METADATA_DISABLED", "true");
            builder.environment().putAll(environment);
            return new ChildJvm(builder.start(), output, home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until Camel says the service started (its routes take requests: before, the port answers 503 to
     * everything) and it answers its health path on the port, whatever the status; fails with what it said otherwise.
     */
    void awaitServing(int httpPort, Duration within) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        URI health = URI.create("http://127.0.0.1:" + httpPort + "/observe/health");
        await().atMost(within).pollInterval(Duration.ofMillis(250)).until(() -> {
            if (!process.isAlive()) {
                fail("the service ended with exit code %d; it said:%n%s", process.exitValue(), output());
            }
            if (!output().contains(") started in ")) {
                return false;
            }
            try {
                http.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding());
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** SIGTERM, as a supervisor stops a service, and what it said until it ended. */
    Outcome stop(Duration within) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the service did not stop within %s; it said:%n%s", within, output());
        }
        return new Outcome(process.exitValue(), output());
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() {
        try {
            return Files.readString(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(output);
            Files.deleteIfExists(home);
        } catch (IOException e) {
            // a temporary file left behind
        }
    }
}
