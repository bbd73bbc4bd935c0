package com.metropia.portal.messaging.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.PortalMessagingApplication;
import com.metropia.portal.messaging.bench.FaultRunVerdict.Observed;
import com.metropia.portal.messaging.bench.FaultRunVerdict.QueuedMessage;
import com.metropia.portal.messaging.bench.FaultRunVerdict.SentEvents;
import com.metropia.portal.messaging.bench.FaultRunVerdict.SentTask;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import org.bson.Document;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The fault run: the packaged service ({@code java -jar target/portal-messaging.jar}, a child process) takes a few
 * thousand tasks and events from well-behaved clients while SQS is stopped for a while, then MongoDB, and the service
 * itself is killed with SIGKILL once and started again. Afterwards everything that landed is read back with the AWS SDK
 * and the MongoDB driver and judged by {@link FaultRunVerdict}: each item acknowledged with a 2xx must be found, as it
 * was sent, and a task's copies in SQS must be ones a consumer can drop (on a FIFO queue: none at all).
 * <p>
 * It runs once per queue of {@code faultrun.queues} (by default a standard and a FIFO queue), each time with fresh
 * emulators, each behind a {@link FaultProxy}: "stopping" one cuts the service off from it and loses nothing it stored.
 * Every request carries its own Idempotency-Key and is retried with the same key and body after a non-2xx answer or a
 * connection error, until a deadline.
 * <p>
 * {@code mvn -DskipTests package exec:java@fault-run}. Settings are system properties ({@code -Dfaultrun.tasks=...}),
 * see {@link Settings}. Prints the figures of each queue and a summary; exits with 1 when any queue's run failed.
 */
public final class FaultRun {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "127.0.0.1";
    private static final String API_KEY = "fault-run-key";
    private static final String DATABASE = "fault_run";
    private static final String FALLBACK = "send_task_fallback";

    private FaultRun() {
    }

    /**
     * The run's settings, each a system property {@code faultrun.<name>} (times in seconds from the start of the load):
     * {@code queues} (comma-separated queue names, one run each; a name ending in .fifo is a FIFO queue),
     * {@code tasks}, {@code event-requests} and {@code events-per-request} (how much is sent), {@code clients} (client
     * threads), {@code load-seconds} (over how long the first attempts are spread), {@code sqs-down-at},
     * {@code sqs-down-for}, {@code mongodb-down-at}, {@code mongodb-down-for} (an outage of 0 s is skipped; one that
     * lasts past the end of the run is never lifted), {@code kill-at} (negative: no kill), {@code deadline} (when the
     * clients stop retrying), {@code abandoned-seconds} and {@code claim-seconds} (the service's
     * {@code portal.tasks.idempotency-abandoned-seconds} and {@code portal.tasks.redrive-claim-seconds}: short, so that
     * the keys and kept tasks a killed service held are taken over within the run), {@code max-backoff} and
     * {@code retry-after-cap} (the longest wait between two attempts of a request, and the most of a Retry-After the
     * clients honour), {@code fallback-drain-seconds} (how long to wait for {@code send_task_fallback} to empty).
     */
    record Settings(List<String> queues, int tasks, int eventRequests, int eventsPerRequest, int clients,
                    double loadSeconds, double sqsDownAt, double sqsDownFor, double mongoDownAt, double mongoDownFor,
                    double killAt, double deadline, int abandonedSeconds, int claimSeconds, double maxBackoff,
                    double retryAfterCap,
                    double fallbackDrainSeconds) {

        static Settings fromSystemProperties() {
            return new Settings(
                    Arrays.stream(System.getProperty("faultrun.queues", "fault-run,fault-run.fifo").split(","))
                            .map(String::trim).filter(name -> !name.isEmpty()).toList(),
                    intSetting("tasks", 3000),
                    intSetting("event-requests", 300),
                    intSetting("events-per-request", 10),
                    intSetting("clients", 32),
                    setting("load-seconds", 60),
                    setting("sqs-down-at", 8),
                    setting("sqs-down-for", 10),
                    setting("mongodb-down-at", 28),
                    setting("mongodb-down-for", 10),
                    setting("kill-at", 48),
                    setting("deadline", 150),
                    intSetting("abandoned-seconds", 20),
                    intSetting("claim-seconds", 20),
                    setting("max-backoff", 5),
                    setting("retry-after-cap", 5),
                    setting("fallback-drain-seconds", 60));
        }

        private static double setting(String name, double defaultValue) {
            return Double.parseDouble(System.getProperty("faultrun." + name, String.valueOf(defaultValue)));
        }

        private static int intSetting(String name, int defaultValue) {
            return Integer.parseInt(System.getProperty("faultrun." + name, String.valueOf(defaultValue)));
        }
    }

    /** One queue's run in the summary: its kill, what went to the fallback, and the verdict (null: it broke off). */
    record Outcome(String queue, String kill, int keptInFallback, FaultRunVerdict verdict, String brokeOff) {

        boolean passed() {
            return verdict != null && verdict.passed();
        }
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-test.properties");
        }
        Settings settings = Settings.fromSystemProperties();
        Path jar = Path.of("target", "portal-messaging.jar");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(Path.of("routes"))) {
            System.err.println("Run from the project folder after packaging:"
                               + " mvn -DskipTests package exec:java@fault-run");
            System.exit(2);
        }
        if (System.getProperty("faultrun.queue") != null) {
            System.err.println("faultrun.queue is no longer read: name the queues in faultrun.queues"
                               + " (comma-separated, e.g. -Dfaultrun.queues=fault-run.fifo)");
            System.exit(2);
        }
        if (settings.queues().isEmpty()) {
            System.err.println("No queue to run against: set faultrun.queues (e.g. fault-run,fault-run.fifo)");
            System.exit(2);
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (String queue : settings.queues()) {
            outcomes.add(runOnce(settings, queue, jar));
        }
        System.exit(summary(outcomes));
    }

    /** One run against a queue, with emulators, proxies and a service of its own; a run that breaks off fails. */
    private static Outcome runOnce(Settings settings, String queue, Path jar) {
        String runId = UUID.randomUUID().toString().substring(0, 8);
        try (EmbeddedEmulators emulators = EmbeddedEmulators.start(HOST, 0, 0);
             FaultProxy sqsProxy = FaultProxy.start("SQS", HOST, emulators.sqsPort());
             FaultProxy mongoProxy = FaultProxy.start("MongoDB", HOST, emulators.mongoPort())) {
            emulators.createQueue(queue);
            Path log = Path.of("target", "fault-run", "service-" + runId + "-" + queue + ".log").toAbsolutePath();
            Files.createDirectories(log.getParent());
            Service service = new Service(jar, log, serviceEnvironment(settings, queue, sqsProxy, mongoProxy));
            return new Run(settings, queue, runId, emulators, sqsProxy, mongoProxy, service).execute();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            System.out.printf("%nRESULT %s: FAIL, the run broke off: %s%n", queue, e);
            return new Outcome(queue, "-", 0, null, e.toString());
        }
    }

    private static int summary(List<Outcome> outcomes) {
        System.out.printf("%nSummary (lost: tasks and events; copies: of tasks in SQS)%n");
        System.out.printf("%-20s %-26s %9s %5s %18s %18s  %s%n", "queue", "kill", "kept in", "lost",
                "copies, droppable", "copies, not", "result");
        System.out.printf("%-20s %-26s %9s %5s %18s %18s%n", "", "", "fallback", "", "(same taskId)",
                "droppable");
        for (Outcome outcome : outcomes) {
            FaultRunVerdict verdict = outcome.verdict();
            if (verdict == null) {
                System.out.printf("%-20s %-26s %9s %5s %18s %18s  FAIL (broke off: %s)%n", outcome.queue(), "-", "-",
                        "-", "-", "-", outcome.brokeOff());
                continue;
            }
            System.out.printf("%-20s %-26s %,9d %,5d %,18d %,18d  %s%n", outcome.queue(), outcome.kill(),
                    outcome.keptInFallback(), verdict.tasks.lost() + verdict.events.lost(), verdict.tasks.droppable(),
                    verdict.tasks.notDroppable(), verdict.passed() ? "PASS" : "FAIL");
            verdict.failures.forEach(reason -> System.out.println("    - " + reason));
        }
        boolean passed = outcomes.stream().allMatch(Outcome::passed);
        System.out.printf("%nRESULT: %s%n", passed ? "PASS" : "FAIL");
        return passed ? 0 : 1;
    }

    private static Map<String, String> serviceEnvironment(Settings settings, String queue, FaultProxy sqs,
                                                          FaultProxy mongo) {
        String sqsEndpoint = "http://" + HOST + ":" + sqs.port();
        Map<String, String> env = new TreeMap<>();
        env.put("PORTAL_HTTP_PORT", String.valueOf(EmbeddedEmulators.freePort(HOST)));
        env.put("PORTAL_API_KEYS", API_KEY);
        env.put("PORTAL_SQS_ENDPOINT", sqsEndpoint);
        env.put("PORTAL_SQS_REGION", EmbeddedEmulators.REGION);
        env.put("PORTAL_SQS_ACCESS_KEY", EmbeddedEmulators.ACCESS_KEY);
        env.put("PORTAL_SQS_SECRET_KEY", EmbeddedEmulators.SECRET_KEY);
        env.put("PORTAL_SQS_QUEUE", queue);
        env.put("PORTAL_SQS_QUEUE_URL", sqsEndpoint + "/000000000000/" + queue);
        env.put("PORTAL_MONGODB_URI", "mongodb://" + HOST + ":" + mongo.port());
        env.put("PORTAL_MONGODB_DATABASE", DATABASE);
        env.put("PORTAL_TASKS_IDEMPOTENCY_ABANDONED_SECONDS", String.valueOf(settings.abandonedSeconds()));
        env.put("PORTAL_TASKS_REDRIVE_CLAIM_SECONDS", String.valueOf(settings.claimSeconds()));
        return env;
    }

    /** The packaged service as a child process, its output appended to one log file across restarts. */
    static final class Service {

        private final Path jar;
        private final Path log;
        private final Map<String, String> environment;
        private final URI health;
        private volatile Process process;

        Service(Path jar, Path log, Map<String, String> environment) {
            this.jar = jar;
            this.log = log;
            this.environment = environment;
            this.health = URI.create("http://" + HOST + ":" + environment.get("PORTAL_HTTP_PORT") + "/observe/health");
            // Whatever happens to the run, the service does not outlive it.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                Process last = process;
                if (last != null) {
                    last.destroyForcibly();
                }
            }));
        }

        URI uri(String path) {
            return URI.create("http://" + HOST + ":" + environment.get("PORTAL_HTTP_PORT") + path);
        }

        long start() throws IOException {
            appendToLog("----- fault run: java -jar " + jar + " -----");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder builder = new ProcessBuilder(java, "-jar", jar.toString());
            builder.directory(Path.of("").toAbsolutePath().toFile());
            builder.environment().putAll(environment);
            builder.redirectErrorStream(true);
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = builder.start();
            return process.pid();
        }

        /** Waits until the health check answers UP; fails when the process ends or the time is up. */
        void awaitUp(HttpClient http, Duration within) throws Exception {
            long deadline = System.nanoTime() + within.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("The service stopped with exit code " + process.exitValue()
                                                    + ": see " + log);
                }
                try {
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(health)
                            .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() == 200 && response.body().contains("UP")) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("The service was not UP within " + within + ": see " + log);
        }

        /** The exit code of the process, or -1 while it runs. */
        int exitCode() {
            return process.isAlive() ? -1 : process.exitValue();
        }

        /** SIGKILL on Unix: no shutdown hook, no in-flight request finishes. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }

        /** SIGTERM, then SIGKILL if it has not stopped after the time given. */
        void stop(Duration within) throws InterruptedException {
            if (process != null && process.isAlive()) {
                process.destroy();
                if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor();
                }
            }
        }

        Path log() {
            return log;
        }

        private void appendToLog(String line) throws IOException {
            Files.writeString(log, line + System.lineSeparator(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    /** One HTTP request and everything that happened to it; items are the tasks or events it carries. */
    static final class Request {

        final String kind;
        final int index;
        final int firstItem;
        final int items;
        final URI uri;
        final String key = UUID.randomUUID().toString();
        final String body;
        final List<String> history = Collections.synchronizedList(new ArrayList<>());
        volatile int attempts;
        volatile boolean acknowledged;
        volatile boolean fallback;
        volatile String messageId;
        volatile String md5OfBody;

        Request(String kind, int index, int firstItem, int items, URI uri, String body) {
            this.kind = kind;
            this.index = index;
            this.firstItem = firstItem;
            this.items = items;
            this.uri = uri;
            this.body = body;
        }
    }

    /** What the clients saw of one kind of request (tasks or events). */
    static final class Tally {

        final List<Request> requests = new ArrayList<>();
        final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
        /** The first answer of each kind: when, and what it said. */
        final Map<String, String> firstAnswers = new ConcurrentHashMap<>();
        final AtomicInteger attempts = new AtomicInteger();

        void answer(String outcome, String at, String detail) {
            answers.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
            if (detail != null) {
                String shown = detail.length() > 300 ? detail.substring(0, 300) + "..." : detail;
                firstAnswers.putIfAbsent(outcome, at + " " + shown);
            }
        }

        /** Every request of a kind carries the same number of items. */
        Request requestOf(int item) {
            return requests.get(item / requests.get(0).items);
        }
    }

    /** A fault at a time of the run; they happen one after the other, in the order of their times. */
    private record Fault(double at, String name, FaultAction action) {
    }

    private interface FaultAction {
        void run() throws Exception;
    }

    static final class Run {

        private final Settings settings;
        private final String queue;
        private final String runId;
        private final EmbeddedEmulators emulators;
        private final FaultProxy sqsProxy;
        private final FaultProxy mongoProxy;
        private final Service service;
        private final HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        private final Tally tasks = new Tally();
        private final Tally events = new Tally();
        private final List<String> timeline = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger inFlight = new AtomicInteger();
        private volatile String kill = "none";
        private long startNanos;
        private volatile long deadlineNanos;
        private CountDownLatch unresolved;
        /** Counted down when the run ends: the faults not due yet do not happen. */
        private final CountDownLatch ended = new CountDownLatch(1);
        private ExecutorService clients;
        private ScheduledExecutorService timer;

        Run(Settings settings, String queue, String runId, EmbeddedEmulators emulators, FaultProxy sqsProxy,
            FaultProxy mongoProxy, Service service) {
            this.settings = settings;
            this.queue = queue;
            this.runId = runId;
            this.emulators = emulators;
            this.sqsProxy = sqsProxy;
            this.mongoProxy = mongoProxy;
            this.service = service;
        }

        Outcome execute() throws Exception {
            System.out.printf("%nportal-messaging fault run %s on %s queue %s: %,d tasks and %,d events (%,d requests"
                              + " of %d) from %d clients over %.0f s, %d cores%n", runId, fifo() ? "FIFO" : "standard",
                    queue, settings.tasks(), settings.eventRequests() * settings.eventsPerRequest(),
                    settings.eventRequests(), settings.eventsPerRequest(), settings.clients(), settings.loadSeconds(),
                    Runtime.getRuntime().availableProcessors());
            System.out.printf("  SQS emulator %s behind %s; MongoDB emulator %s behind %s%n", emulators.sqsEndpoint(),
                    sqsProxy, emulators.mongoUri(), mongoProxy);
            System.out.printf("  service: java -jar target/portal-messaging.jar on %s, log %s%n", service.uri(""),
                    service.log());
            System.out.printf("  portal.tasks.idempotency-abandoned-seconds = %d and portal.tasks.redrive-claim-seconds"
                              + " = %d for this run%n", settings.abandonedSeconds(), settings.claimSeconds());
            System.out.printf("  %s%n", settings);
            long pid = service.start();
            try {
                service.awaitUp(http, Duration.ofSeconds(90));
                System.out.printf("  service UP (pid %d); load starts%n", pid);
                return load();
            } finally {
                service.stop(Duration.ofSeconds(5));
            }
        }

        private Outcome load() throws Exception {
            buildRequests();
            clients = Executors.newFixedThreadPool(settings.clients());
            timer = Executors.newSingleThreadScheduledExecutor();
            unresolved = new CountDownLatch(tasks.requests.size() + events.requests.size());
            startNanos = System.nanoTime();
            deadlineNanos = startNanos + seconds(settings.deadline());
            mark("load starts");
            schedule(tasks);
            schedule(events);
            timer.schedule(() -> mark("last request sent for the first time"), seconds(settings.loadSeconds()),
                    TimeUnit.NANOSECONDS);
            // The faults have a thread of their own, so that an outage may last past the end of the run.
            Thread faults = new Thread(this::faults, "fault-run-faults");
            faults.setDaemon(true);
            faults.start();
            try {
                boolean allResolved = unresolved.await(Math.max(0, deadlineNanos - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
                mark(allResolved ? "every request answered for good" : "deadline: requests still unanswered stop here");
            } finally {
                timer.shutdownNow();
                clients.shutdownNow();
                clients.awaitTermination(35, TimeUnit.SECONDS);
            }
            // A fault under way (a kill waits for the restart to be UP) is let finish, so that the service stopped
            // below is the last one started.
            ended.countDown();
            faults.join(TimeUnit.SECONDS.toMillis(100));
            try (MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
                MongoDatabase database = mongo.getDatabase(DATABASE);
                awaitFallbackDrained(database);
                service.stop(Duration.ofSeconds(40));
                mark("service stopped; reading SQS and MongoDB");
                Observed observed = new Observed(readSqs(), queueLeft(), readFallback(database),
                        readSendEvent(database));
                mark(String.format("read %,d messages from SQS (%,d left), %,d fallback documents, %,d stored events",
                        observed.queue().size(), observed.queueLeft(), observed.fallbackLeft().size(),
                        observed.storedEvents().size()));
                FaultRunVerdict verdict = FaultRunVerdict.judge(fifo(), sentTasks(), sentEvents(), observed);
                report(verdict);
                return new Outcome(queue, kill, verdict.tasks.acknowledgedFallback(), verdict, null);
            }
        }

        private boolean fifo() {
            return queue.endsWith(".fifo");
        }

        private List<SentTask> sentTasks() {
            List<SentTask> sent = new ArrayList<>();
            for (Request request : tasks.requests) {
                sent.add(new SentTask(request.firstItem, request.key, request.body, request.acknowledged,
                        request.fallback, request.messageId, request.md5OfBody));
            }
            return sent;
        }

        private List<SentEvents> sentEvents() throws IOException {
            List<SentEvents> sent = new ArrayList<>();
            for (Request request : events.requests) {
                List<JsonNode> items = new ArrayList<>();
                JSON.readTree(request.body).forEach(items::add);
                sent.add(new SentEvents(request.firstItem, items, request.acknowledged));
            }
            return sent;
        }

        private void buildRequests() {
            URI taskUri = service.uri("/api/tasks");
            for (int i = 0; i < settings.tasks(); i++) {
                tasks.requests.add(new Request("task", i, i, 1, taskUri,
                        "{\"action\":\"fault_run\",\"data\":{\"run\":\"" + runId + "\",\"n\":" + i + "}}"));
            }
            URI eventsUri = service.uri("/api/events");
            int per = settings.eventsPerRequest();
            for (int r = 0; r < settings.eventRequests(); r++) {
                StringBuilder body = new StringBuilder("[");
                for (int k = 0; k < per; k++) {
                    int n = r * per + k;
                    body.append(k == 0 ? "" : ",").append("{\"userIds\":[\"u").append(n)
                            .append("\"],\"eventName\":\"fault_run\",\"eventMeta\":{\"run\":\"").append(runId)
                            .append("\",\"n\":").append(n).append("}}");
                }
                events.requests.add(new Request("events", r, r * per, per, eventsUri, body.append(']').toString()));
            }
        }

        /** First attempts spread evenly over the load time, tasks and events side by side. */
        private void schedule(Tally tally) {
            int count = tally.requests.size();
            for (int i = 0; i < count; i++) {
                Request request = tally.requests.get(i);
                long at = seconds(settings.loadSeconds()) * i / Math.max(1, count);
                timer.schedule(() -> clients.execute(() -> attempt(tally, request)), at, TimeUnit.NANOSECONDS);
            }
        }

        private void attempt(Tally tally, Request request) {
            request.attempts++;
            tally.attempts.incrementAndGet();
            String outcome;
            String detail;
            long retryAfterMillis = 0;
            long sentAt = System.nanoTime();
            inFlight.incrementAndGet();
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(request.uri)
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .header("Idempotency-Key", request.key)
                        .header("X-API-Key", API_KEY)
                        .POST(HttpRequest.BodyPublishers.ofString(request.body))
                        .build(), HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                outcome = String.valueOf(status);
                detail = response.body();
                if (status / 100 == 2) {
                    JsonNode reply = JSON.readTree(response.body());
                    request.fallback = reply.path("fallback").asBoolean(false);
                    request.messageId = reply.path("messageId").asText(null);
                    request.md5OfBody = reply.path("md5OfBody").asText(null);
                    request.acknowledged = true;
                    outcome = status + (request.fallback ? " fallback" : "");
                    tally.answer(outcome, at(), null);
                    request.history.add(took(sentAt) + " " + outcome);
                    unresolved.countDown();
                    return;
                }
                retryAfterMillis = response.headers().firstValue("Retry-After")
                        .map(value -> (long) (Math.min(Double.parseDouble(value), settings.retryAfterCap()) * 1000))
                        .orElse(0L);
            } catch (HttpTimeoutException e) {
                outcome = "timeout";
                detail = e.toString();
            } catch (IOException e) {
                outcome = "connection error";
                detail = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                outcome = "client error";
                detail = e.toString();
            } finally {
                inFlight.decrementAndGet();
            }
            tally.answer(outcome, at(), detail);
            request.history.add(took(sentAt) + " " + outcome);
            // Like a careful caller: exponential backoff with jitter, at least the Retry-After (up to a cap).
            long backoff = (long) (Math.min(settings.maxBackoff() * 1000, 200L << Math.min(request.attempts - 1, 10))
                                   * (0.5 + ThreadLocalRandom.current().nextDouble() / 2));
            long delay = Math.max(backoff, retryAfterMillis);
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay) >= deadlineNanos) {
                request.history.add(at() + " gave up at the deadline");
                unresolved.countDown();
                return;
            }
            try {
                timer.schedule(() -> clients.execute(() -> attempt(tally, request)), delay, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // the run is over
            }
        }

        /** SQS down and up, MongoDB down and up, kill -9 and restart, at the times of the settings. */
        private void faults() {
            List<Fault> faults = new ArrayList<>();
            if (settings.sqsDownFor() > 0) {
                faults.add(new Fault(settings.sqsDownAt(), "SQS down",
                        () -> mark("SQS down (" + sqsProxy.down() + " open connections reset)")));
                faults.add(new Fault(settings.sqsDownAt() + settings.sqsDownFor(), "SQS up", () -> {
                    sqsProxy.up();
                    mark("SQS up");
                }));
            }
            if (settings.mongoDownFor() > 0) {
                faults.add(new Fault(settings.mongoDownAt(), "MongoDB down",
                        () -> mark("MongoDB down (" + mongoProxy.down() + " open connections reset)")));
                faults.add(new Fault(settings.mongoDownAt() + settings.mongoDownFor(), "MongoDB up", () -> {
                    mongoProxy.up();
                    mark("MongoDB up");
                }));
            }
            if (settings.killAt() >= 0) {
                faults.add(new Fault(settings.killAt(), "kill", this::killAndRestart));
            }
            faults.sort(Comparator.comparingDouble(Fault::at));
            // Each fault on a thread of its own, at its time: a restart that waits for the service to be UP again
            // does not hold up a backend coming back (without which the restart may never pass its start-up check).
            List<Thread> started = new ArrayList<>();
            try {
                for (Fault fault : faults) {
                    long wait = startNanos + seconds(fault.at()) - System.nanoTime();
                    if (ended.await(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                        mark("the run ended before " + fault.name() + " (planned at " + fault.at() + " s)");
                        break;
                    }
                    Thread action = new Thread(() -> {
                        try {
                            fault.action().run();
                        } catch (Exception e) {
                            mark(fault.name() + " failed: " + e);
                        }
                    }, "fault-run-" + fault.name());
                    action.setDaemon(true);
                    action.start();
                    started.add(action);
                }
                for (Thread action : started) {
                    action.join();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void killAndRestart() throws Exception {
            // While requests are in flight: waits (a few seconds at most) for one if there is none right now.
            long until = System.nanoTime() + seconds(5);
            while (inFlight.get() == 0 && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            int killedWith = inFlight.get();
            service.kill();
            kill = String.format("%.0f s, %d in flight", (System.nanoTime() - startNanos) / 1e9, killedWith);
            mark("service killed (kill -9) with " + killedWith + " requests in flight");
            long upUntil = System.nanoTime() + seconds(90);
            while (true) {
                long pid = service.start();
                mark("service restarted (pid " + pid + ")");
                try {
                    service.awaitUp(http, Duration.ofNanos(Math.max(0, upUntil - System.nanoTime())));
                    mark("service UP again");
                    return;
                } catch (IllegalStateException e) {
                    // A start while SQS or MongoDB is cut off stops at the start-up check (exit code 2): started
                    // again a second later, as a supervisor (systemd, Kubernetes) would.
                    if (service.exitCode() == PortalMessagingApplication.CONFIGURATION_ERROR
                        && System.nanoTime() < upUntil) {
                        mark("service stopped at its start-up check (a backend is down); started again");
                        Thread.sleep(1000);
                        continue;
                    }
                    // The clients retry until the deadline all the same; the verdict says what that came to.
                    mark("service not UP again: " + e.getMessage());
                    return;
                }
            }
        }

        /** With the fallback of tasks (a collection the redrive empties into SQS): waits until it is empty. */
        private void awaitFallbackDrained(MongoDatabase database) throws InterruptedException {
            long until = System.nanoTime() + seconds(settings.fallbackDrainSeconds());
            while (System.nanoTime() < until && fallbackCount(database) > 0) {
                Thread.sleep(500);
            }
            mark(FALLBACK + " holds " + fallbackCount(database) + " documents");
        }

        private static long fallbackCount(MongoDatabase database) {
            return database.listCollectionNames().into(new ArrayList<>()).contains(FALLBACK)
                    ? database.getCollection(FALLBACK).countDocuments() : 0;
        }

        /**
         * Receives and deletes every message (a FIFO queue hands out nothing more of a message group while its
         * messages are in flight), with the message attributes a consumer would see. Bounded in time: what is left
         * shows in {@link #queueLeft()}.
         */
        private List<QueuedMessage> readSqs() {
            List<QueuedMessage> read = new ArrayList<>();
            long until = System.nanoTime() + seconds(120);
            try (SqsClient sqs = emulators.newSqsClient()) {
                String queueUrl = sqs.getQueueUrl(b -> b.queueName(queue)).queueUrl();
                int empty = 0;
                while (empty < 3 && System.nanoTime() < until) {
                    List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                            .messageAttributeNames("All").visibilityTimeout(3600).waitTimeSeconds(1)).messages();
                    empty = messages.isEmpty() ? empty + 1 : 0;
                    if (!messages.isEmpty()) {
                        sqs.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(messages.stream()
                                .map(m -> DeleteMessageBatchRequestEntry.builder().id(m.messageId())
                                        .receiptHandle(m.receiptHandle()).build()).toList()));
                    }
                    for (Message message : messages) {
                        MessageAttributeValue taskId = message.messageAttributes().get(FaultRunVerdict.TASK_ID);
                        read.add(new QueuedMessage(message.messageId(), message.body(),
                                taskId == null ? null : taskId.stringValue()));
                    }
                }
            }
            return read;
        }

        /** Messages SQS still holds: visible, in flight or delayed. */
        private long queueLeft() {
            try (SqsClient sqs = emulators.newSqsClient()) {
                String queueUrl = sqs.getQueueUrl(b -> b.queueName(queue)).queueUrl();
                Map<QueueAttributeName, String> left = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl)
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
                                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED)).attributes();
                return left.values().stream().mapToLong(Long::parseLong).sum();
            }
        }

        /** The bodies of the documents left in the fallback collection. */
        private List<String> readFallback(MongoDatabase database) {
            List<String> bodies = new ArrayList<>();
            for (Document document : database.getCollection(FALLBACK).find()) {
                Object body = document.get("body");
                bodies.add(body instanceof String text ? text : String.valueOf(body));
            }
            return bodies;
        }

        /** The events of this run in send_event, as JSON. */
        private List<JsonNode> readSendEvent(MongoDatabase database) throws IOException {
            List<JsonNode> stored = new ArrayList<>();
            for (Document document : database.getCollection("send_event").find()) {
                for (Object item : document.getList("data", Object.class, List.of())) {
                    if (item instanceof Document event && event.get("eventMeta") instanceof Document meta
                        && runId.equals(meta.get("run"))) {
                        stored.add(JSON.readTree(event.toJson()));
                    }
                }
            }
            return stored;
        }

        private void report(FaultRunVerdict verdict) {
            System.out.printf("%nTimeline of the %s run (seconds from the start of the load)%n", queue);
            synchronized (timeline) {
                timeline.forEach(line -> System.out.println("  " + line));
            }
            FaultRunVerdict.TaskFigures t = verdict.tasks;
            FaultRunVerdict.EventFigures e = verdict.events;
            System.out.printf("%n%-56s %10s %10s%n", queue + (fifo() ? " (FIFO)" : " (standard)"), "tasks", "events");
            row("requests sent", t.requests(), e.requests());
            row("items (one task; " + settings.eventsPerRequest() + " events a request)", t.requests(), e.items());
            row("attempts (first tries and retries)", tasks.attempts.get(), events.attempts.get());
            row("2xx received (requests)", t.acknowledged(), e.acknowledgedRequests());
            row("  of which fallback (task kept in MongoDB)", t.acknowledgedFallback(), null);
            System.out.println("non-2xx answers (attempts)");
            Set<String> outcomes = new TreeSet<>();
            tasks.answers.keySet().stream().filter(o -> !o.startsWith("2")).forEach(outcomes::add);
            events.answers.keySet().stream().filter(o -> !o.startsWith("2")).forEach(outcomes::add);
            for (String outcome : outcomes) {
                row("  " + outcome, count(tasks, outcome), count(events, outcome));
            }
            row("requests without a 2xx at the deadline (must be 0)", t.unacknowledged(), e.unacknowledgedRequests());
            row("items acknowledged (2xx)", t.acknowledged(), e.acknowledgedItems());
            row("items found afterwards, as sent", t.foundItems(), e.foundItems());
            row("  messages in SQS", t.inSqs(), null);
            row("  left in " + FALLBACK + " (must be 0)", t.inFallback(), null);
            row("lost: acknowledged, not found (must be 0)", t.lost(), e.lost());
            row("found more than once", t.duplicated(), e.duplicated());
            row("  copies a consumer can drop (same taskId)", t.droppable(), null);
            row("  copies a consumer cannot drop (must be 0)", t.notDroppable(), e.duplicated());
            row("  extra copies", t.extraCopies(), e.extraCopies());
            row("messages without a taskId attribute", t.withoutTaskId(), null);
            row("tasks whose taskId is the SHA-256 of their key", t.taskIdFromKey(), null);
            row("taskIds carried by different tasks (must be 0)", t.sharedTaskIds(), null);
            row("acknowledged messageId not in SQS (must be 0)", t.messageIdNotInSqs(), null);
            row("acknowledged md5OfBody not the body's (must be 0)", t.md5Differs(), null);
            row("stored otherwise than sent (must be 0)", t.bodiesDiffer(), e.differ());
            row("unacknowledged but found", t.unacknowledgedFound(), e.unacknowledgedFound());
            row("unacknowledged, not found", t.unacknowledgedMissing(), e.unacknowledgedMissing());
            if (fifo()) {
                System.out.println("On a FIFO queue every copy counts: SQS drops one sent again with the same"
                                   + " deduplication id within 5 minutes.");
            }
            if (!tasks.firstAnswers.isEmpty() || !events.firstAnswers.isEmpty()) {
                System.out.printf("%nThe first non-2xx answer of each kind:%n");
            }
            for (Tally tally : List.of(tasks, events)) {
                new TreeMap<>(tally.firstAnswers).forEach((outcome, first) -> System.out.printf("  %s %s at %s%n",
                        tally == tasks ? "tasks " : "events", outcome, first));
            }
            new TreeMap<>(verdict.taskExamples).forEach((what, items) -> examples("Tasks " + what, tasks, items));
            new TreeMap<>(verdict.eventExamples).forEach((what, items) -> examples("Events " + what, events, items));
            if (verdict.passed()) {
                System.out.printf("%nRESULT %s: PASS%n", queue);
            } else {
                System.out.printf("%nRESULT %s: FAIL%n", queue);
                verdict.failures.forEach(reason -> System.out.println("  - " + reason));
            }
        }

        /** Up to 10 items, with what their request went through; -1 stands for items no request can be found for. */
        private void examples(String what, Tally tally, Set<Integer> items) {
            System.out.printf("%n%s: %,d (at most 10 shown, with the attempts of their request: sent at + answered"
                              + " after)%n", what, items.size());
            items.stream().limit(10).forEach(n -> {
                if (n < 0 || tally.requests.isEmpty()) {
                    System.out.println("  (not one of the items sent)");
                    return;
                }
                Request request = tally.requestOf(n);
                List<String> history;
                synchronized (request.history) {
                    history = new ArrayList<>(request.history);
                }
                System.out.printf("  %s %d: request %d (key %s): %s%n", request.kind, n, request.index, request.key,
                        String.join(", ", history));
            });
        }

        private static int count(Tally tally, String outcome) {
            AtomicInteger count = tally.answers.get(outcome);
            return count == null ? 0 : count.get();
        }

        /** A figure of tasks and one of events; null where a figure does not apply to the kind. */
        private static void row(String label, Integer tasks, Integer events) {
            System.out.printf("%-56s %10s %10s%n", label, tasks == null ? "-" : String.format("%,d", tasks),
                    events == null ? "-" : String.format("%,d", events));
        }

        private void mark(String what) {
            timeline.add(String.format("%6.1f  %s", (System.nanoTime() - startNanos) / 1e9, what));
        }

        private String at() {
            return String.format("%.1fs", (System.nanoTime() - startNanos) / 1e9);
        }

        /** When an attempt was sent and how long its answer took: {@code 12.3s+0.4s}. */
        private String took(long sentAt) {
            return String.format("%.1fs+%.1fs", (sentAt - startNanos) / 1e9, (System.nanoTime() - sentAt) / 1e9);
        }

        private static long seconds(double seconds) {
            return (long) (seconds * 1e9);
        }
    }
}
