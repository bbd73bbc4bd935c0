package com.metropia.portal.messaging.bench;

import com.metropia.portal.messaging.PortalMessagingApplication;
import com.metropia.portal.messaging.dev.ServiceClassArchive;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The packaged service as the README runs it ({@code java -XX:SharedArchiveFile=target/portal-messaging.jsa -jar
 * target/portal-messaging.jar} from the project folder,
 * settings from environment variables only), a child process of the benchmark, with its CPU time and peak resident
 * memory read from {@code /proc}. Its console goes to a log file, as a supervisor would keep it.
 */
final class BenchService implements AutoCloseable {

    /** Clock ticks a second of {@code /proc/<pid>/stat} (USER_HZ, 100 on Linux). */
    private static final double TICKS_PER_SECOND = 100;
    private static final Pattern CAMEL_STARTED = Pattern.compile("started in ([^ ]+)");

    private final Process process;
    private final Path log;
    private final long startNanos;
    private final int port;
    private final Path home;

    private BenchService(Process process, Path log, long startNanos, int port, Path home) {
        this.home = home;
        this.process = process;
        this.log = log;
        this.startNanos = startNanos;
        this.port = port;
    }

    /**
     * Starts the jar with the environment given (and nothing of this machine's but PATH), the JVM options before
     * {@code -jar}; the process is destroyed when the benchmark's JVM ends, whatever happens to the run.
     */
    static BenchService start(Path jar, Path log, List<String> jvmOptions, Map<String, String> environment, int port)
            throws IOException {
        return start(jar, List.of(), log, jvmOptions, environment, port);
    }

    /**
     * The same, with more class folders after the jar's own class path (the benchmark's route variants): the jar's
     * main class is then started with {@code -cp}, without the class-data archive, which holds the jar's class path
     * only.
     */
    static BenchService start(Path jar, List<Path> moreClasses, Path log, List<String> jvmOptions,
                              Map<String, String> environment, int port) throws IOException {
        Files.createDirectories(log.getParent());
        Path home = Files.createTempDirectory("bench-service-home");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // The class-data archive mvn package writes, as the README's run command uses it (when it is there)
        Path archive = jar.resolveSibling("portal-messaging.jsa");
        if (Files.isRegularFile(archive) && moreClasses.isEmpty()) {
            command.add("-XX:SharedArchiveFile=" + archive);
        }
        command.addAll(jvmOptions);
        if (moreClasses.isEmpty()) {
            command.add("-jar");
            command.add(jar.toString());
        } else {
            List<String> classPath = new ArrayList<>();
            classPath.add(jar.toString());
            moreClasses.forEach(folder -> classPath.add(folder.toString()));
            command.add("-cp");
            command.add(String.join(java.io.File.pathSeparator, classPath));
            command.add(PortalMessagingApplication.class.getName());
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(Path.of("").toAbsolutePath().toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = builder.environment();
        String path = env.get("PATH");
        env.clear();
        if (path != null) {
            env.put("PATH", path);
        }
        // No ~/.aws profile, and no wait for the EC2 metadata address
        env.put("HOME", home.toString());
        env.put("AWS_EC2_METADATA_DISABLED", "true");
        env.putAll(environment);
        long startNanos = System.nanoTime();
        Process process = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            process.destroyForcibly();
            deleteHome(home);
        }, "bench-service-kill"));
        return new BenchService(process, log, startNanos, port, home);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /**
     * Seconds from the process start to the first 2xx of the request given, tried every 20 ms; fails with the log's
     * end when the process ends or the time is up.
     */
    double awaitFirstSuccess(HttpClient http, HttpRequest request, Duration within) throws Exception {
        long deadline = startNanos + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("The service ended with exit code " + process.exitValue() + ":\n"
                                                + logTail());
            }
            try {
                HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() / 100 == 2) {
                    return (System.nanoTime() - startNanos) / 1e9;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("The service did not answer a 2xx within " + within + ":\n" + logTail());
    }

    /**
     * What Camel says its own start took ("started in 1s234ms"), or "?" when the log does not say within a second (the
     * service writes its log out at most 0.1 s after a line).
     */
    String camelStartedIn() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (true) {
            try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
                var said = lines.filter(line -> line.contains(") started in "))
                        .map(CAMEL_STARTED::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst();
                if (said.isPresent() || System.nanoTime() > deadline) {
                    return said.orElse("?");
                }
            }
            Thread.sleep(20);
        }
    }

    /** User plus system CPU seconds the process has used so far. */
    double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
        // the fields after the command name (which may hold spaces) in parentheses: state is the first, utime the 12th
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
    }

    /** The peak resident memory (VmHWM) since the process started or since {@link #resetPeakMemory()}, in MiB. */
    double peakMemoryMiB() throws IOException {
        return statusKiB("VmHWM") / 1024.0;
    }

    /** Resets VmHWM to the current resident memory (Linux 4.0 and later), so the next phase has its own peak. */
    void resetPeakMemory() {
        try {
            Files.writeString(Path.of("/proc", String.valueOf(process.pid()), "clear_refs"), "5");
        } catch (IOException e) {
            // an older kernel: the peak then counts from the process start
        }
    }

    /** Lines of the log that contain the text (after the process ended, every line it wrote). */
    long logLinesContaining(String text) throws IOException {
        try (Stream<String> lines = Files.lines(log, StandardCharsets.UTF_8)) {
            return lines.filter(line -> line.contains(text)).count();
        }
    }

    Path log() {
        return log;
    }

    private long statusKiB(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException(field + " not in /proc/" + process.pid() + "/status");
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGTERM, as a supervisor stops the service (a normal shutdown); SIGKILL if it has not ended within 40 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        deleteHome(home);
    }

    /** The service's home folder, with whatever it wrote there. */
    private static void deleteHome(Path home) {
        try {
            ServiceClassArchive.deleteTree(home);
        } catch (IOException e) {
            // already gone
        }
    }
}
