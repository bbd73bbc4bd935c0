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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import org.bson.Document;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The fault run: the packaged service ({@code java -jar target/portal-messaging.jar}, a child process) takes a few
 * thousand tasks and events from well-behaved clients while SQS is stopped for a while, then MongoDB, and the service
 * itself is killed with SIGKILL once and started again. Afterwards everything that landed is read back with the AWS SDK
 * and the MongoDB driver, and each item acknowledged with a 2xx must be found, once.
 * <p>
 * SQS and MongoDB are the in-process emulators, each behind a {@link FaultProxy}: "stopping" one cuts the service off
 * from it and loses nothing it stored. Every request carries its own Idempotency-Key and is retried with the same key
 * and body after a non-2xx answer or a connection error, until a deadline.
 * <p>
 * {@code mvn -DskipTests package exec:java@fault-run}. Settings are system properties ({@code -Dfaultrun.tasks=...}),
 * see {@link Settings}. Prints the figures; exits with 1 when an acknowledged item is lost or found twice.
 */
public final class FaultRun {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "127.0.0.1";
    /** The queue of the run; a name ending in .fifo makes it a FIFO queue ({@code -Dfaultrun.queue=fault-run.fifo}). */
    private static final String QUEUE = System.getProperty("faultrun.queue", "fault-run");
    private static final String API_KEY = "fault-run-key";
    private static final String DATABASE = "fault_run";
    private static final String FALLBACK = "send_task_fallback";

    private FaultRun() {
    }

    /**
     * The run's settings, each a system property {@code faultrun.<name>} (times in seconds from the start of the load):
     * {@code tasks}, {@code event-requests} and {@code events-per-request} (how much is sent), {@code clients} (client
     * threads), {@code load-seconds} (over how long the first attempts are spread), {@code sqs-down-at},
     * {@code sqs-down-for}, {@code mongodb-down-at}, {@code mongodb-down-for} (an outage of 0 s is skipped),
     * {@code kill-at} (negative: no kill), {@code deadline} (when the clients stop retrying), {@code abandoned-seconds}
     * (the service's {@code portal.tasks.idempotency-abandoned-seconds}), {@code max-backoff} and
     * {@code retry-after-cap} (the longest wait between two attempts of a request, and the most of a Retry-After the
     * clients honour), {@code fallback-drain-seconds} (how long to wait for {@code send_task_fallback} to empty).
     */
    record Settings(int tasks, int eventRequests, int eventsPerRequest, int clients, double loadSeconds,
                    double sqsDownAt, double sqsDownFor, double mongoDownAt, double mongoDownFor, double killAt,
                    double deadline, int abandonedSeconds, double maxBackoff, double retryAfterCap,
                    double fallbackDrainSeconds) {

        static Settings fromSystemProperties() {
            return new Settings(
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
        String runId = UUID.randomUUID().toString().substring(0, 8);
        int code;
        try (EmbeddedEmulators emulators = EmbeddedEmulators.start(HOST, 0, 0);
             FaultProxy sqsProxy = FaultProxy.start("SQS", HOST, emulators.sqsPort());
             FaultProxy mongoProxy = FaultProxy.start("MongoDB", HOST, emulators.mongoPort())) {
            emulators.createQueue(QUEUE);
            Path log = Path.of("target", "fault-run", "service-" + runId + ".log").toAbsolutePath();
            Files.createDirectories(log.getParent());
            Service service = new Service(jar, log, serviceEnvironment(settings, sqsProxy, mongoProxy));
            code = new FaultRun.Run(settings, runId, emulators, sqsProxy, mongoProxy, service).execute();
        }
        System.exit(code);
    }

    private static Map<String, String> serviceEnvironment(Settings settings, FaultProxy sqs, FaultProxy mongo) {
        String sqsEndpoint = "http://" + HOST + ":" + sqs.port();
        Map<String, String> env = new TreeMap<>();
        env.put("PORTAL_HTTP_PORT", String.valueOf(EmbeddedEmulators.freePort(HOST)));
        env.put("PORTAL_API_KEYS", API_KEY);
        env.put("PORTAL_SQS_ENDPOINT", sqsEndpoint);
        env.put("PORTAL_SQS_REGION", EmbeddedEmulators.REGION);
        env.put("PORTAL_SQS_ACCESS_KEY", EmbeddedEmulators.ACCESS_KEY);
        env.put("PORTAL_SQS_SECRET_KEY", EmbeddedEmulators.SECRET_KEY);
        env.put("PORTAL_SQS_QUEUE", QUEUE);
        env.put("PORTAL_SQS_QUEUE_URL", sqsEndpoint + "/000000000000/" + QUEUE);
        env.put("PORTAL_MONGODB_URI", "mongodb://" + HOST + ":" + mongo.port());
        env.put("PORTAL_MONGODB_DATABASE", DATABASE);
        env.put("PORTAL_TASKS_IDEMPOTENCY_ABANDONED_SECONDS", String.valueOf(settings.abandonedSeconds()));
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

        Request(String kind, int index, int firstItem, int items, URI uri, String body) {
            this.kind = kind;
            this.index = index;
            this.firstItem = firstItem;
            this.items = items;
            this.uri = uri;
            this.body = body;
        }
    }

    /** What one kind of request (tasks or events) came to. */
    static final class Tally {

        final List<Request> requests = new ArrayList<>();
        final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
        /** The first answer of each kind: when, and what it said. */
        final Map<String, String> firstAnswers = new ConcurrentHashMap<>();
        final AtomicInteger attempts = new AtomicInteger();
        int[] inSqs;
        int[] inFallback;
        int[] inSendEvent;
        int items;

        void answer(String outcome, String at, String detail) {
            answers.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
            if (detail != null) {
                String shown = detail.length() > 300 ? detail.substring(0, 300) + "..." : detail;
                firstAnswers.putIfAbsent(outcome, at + " " + shown);
            }
        }

        int found(int item) {
            return inSqs[item] + inFallback[item] + inSendEvent[item];
        }

        /** Every request of a kind carries the same number of items. */
        Request requestOf(int item) {
            return requests.get(item / requests.get(0).items);
        }
    }

    static final class Run {

        private final Settings settings;
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
        private final Map<Integer, Integer> sqsMessageIdMatches = new ConcurrentHashMap<>();
        private final AtomicInteger inFlight = new AtomicInteger();
        private long startNanos;
        private volatile long deadlineNanos;
        private CountDownLatch unresolved;
        private ExecutorService clients;
        private ScheduledExecutorService timer;

        Run(Settings settings, String runId, EmbeddedEmulators emulators, FaultProxy sqsProxy, FaultProxy mongoProxy,
            Service service) {
            this.settings = settings;
            this.runId = runId;
            this.emulators = emulators;
            this.sqsProxy = sqsProxy;
            this.mongoProxy = mongoProxy;
            this.service = service;
        }

        int execute() throws Exception {
            System.out.printf("%nportal-messaging fault run %s: %,d tasks and %,d events (%,d requests of %d) from %d"
                              + " clients over %.0f s, %d cores%n", runId, settings.tasks(),
                    settings.eventRequests() * settings.eventsPerRequest(), settings.eventRequests(),
                    settings.eventsPerRequest(), settings.clients(), settings.loadSeconds(),
                    Runtime.getRuntime().availableProcessors());
            System.out.printf("  SQS emulator %s behind %s; MongoDB emulator %s behind %s%n", emulators.sqsEndpoint(),
                    sqsProxy, emulators.mongoUri(), mongoProxy);
            System.out.printf("  service: java -jar target/portal-messaging.jar on %s, log %s%n", service.uri(""),
                    service.log());
            System.out.printf("  portal.tasks.idempotency-abandoned-seconds = %d for this run%n",
                    settings.abandonedSeconds());
            System.out.printf("  %s%n", settings);
            long pid = service.start();
            service.awaitUp(http, Duration.ofSeconds(90));
            System.out.printf("  service UP (pid %d); load starts%n", pid);

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
            try {
                faults();
                boolean allResolved = unresolved.await(Math.max(0, deadlineNanos - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
                mark(allResolved ? "every request answered for good" : "deadline: requests still unanswered stop here");
            } finally {
                timer.shutdownNow();
                clients.shutdownNow();
                clients.awaitTermination(35, TimeUnit.SECONDS);
            }
            try (MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
                MongoDatabase database = mongo.getDatabase(DATABASE);
                awaitFallbackDrained(database);
                service.stop(Duration.ofSeconds(40));
                mark("service stopped; reading SQS and MongoDB");
                readSqs();
                readFallback(database);
                readSendEvent(database);
            } finally {
                service.stop(Duration.ofSeconds(5));
            }
            return report();
        }

        private void buildRequests() {
            URI taskUri = service.uri("/api/tasks");
            for (int i = 0; i < settings.tasks(); i++) {
                tasks.requests.add(new Request("task", i, i, 1, taskUri,
                        "{\"action\":\"fault_run\",\"data\":{\"run\":\"" + runId + "\",\"n\":" + i + "}}"));
            }
            tasks.items = settings.tasks();
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
            events.items = settings.eventRequests() * per;
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
        private void faults() throws Exception {
            if (settings.sqsDownFor() > 0) {
                sleepUntil(settings.sqsDownAt());
                mark("SQS down (" + sqsProxy.down() + " open connections reset)");
                sleepUntil(settings.sqsDownAt() + settings.sqsDownFor());
                sqsProxy.up();
                mark("SQS up");
            }
            if (settings.mongoDownFor() > 0) {
                sleepUntil(settings.mongoDownAt());
                mark("MongoDB down (" + mongoProxy.down() + " open connections reset)");
                sleepUntil(settings.mongoDownAt() + settings.mongoDownFor());
                mongoProxy.up();
                mark("MongoDB up");
            }
            if (settings.killAt() < 0) {
                return;
            }
            sleepUntil(settings.killAt());
            // While requests are in flight: waits (a few seconds at most) for one if there is none right now.
            long until = System.nanoTime() + seconds(5);
            while (inFlight.get() == 0 && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            int killedWith = inFlight.get();
            service.kill();
            mark("service killed (kill -9) with " + killedWith + " requests in flight");
            long pid = service.start();
            mark("service restarted (pid " + pid + ")");
            try {
                service.awaitUp(http, Duration.ofSeconds(90));
                mark("service UP again");
            } catch (IllegalStateException e) {
                // The clients retry until the deadline all the same; the figures say what that came to.
                mark("service not UP again: " + e.getMessage());
            }
        }

        /** With the fallback of tasks (a collection the redrive empties into SQS): waits until it is empty. */
        private void awaitFallbackDrained(MongoDatabase database) throws InterruptedException {
            long until = System.nanoTime() + seconds(settings.fallbackDrainSeconds());
            boolean exists = false;
            while (System.nanoTime() < until) {
                exists = database.listCollectionNames().into(new ArrayList<>()).contains(FALLBACK);
                if (!exists || database.getCollection(FALLBACK).countDocuments() == 0) {
                    break;
                }
                Thread.sleep(500);
            }
            if (!exists) {
                mark("no " + FALLBACK + " collection: nothing to wait for");
            } else {
                mark(FALLBACK + " holds " + database.getCollection(FALLBACK).countDocuments() + " documents");
            }
        }

        /** Receives and deletes every message (the counts are kept here), so that a FIFO group never blocks the reads. */
        private void readSqs() {
            tasks.inSqs = new int[tasks.items];
            events.inSqs = new int[events.items];
            try (SqsClient sqs = emulators.newSqsClient()) {
                String queueUrl = sqs.getQueueUrl(b -> b.queueName(QUEUE)).queueUrl();
                int empty = 0;
                while (empty < 3) {
                    List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                            .visibilityTimeout(3600).waitTimeSeconds(1)).messages();
                    empty = messages.isEmpty() ? empty + 1 : 0;
                    if (!messages.isEmpty()) {
                        // a FIFO queue hands out nothing more of a message group while its messages are in flight
                        sqs.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(messages.stream()
                                .map(m -> DeleteMessageBatchRequestEntry.builder().id(m.messageId())
                                        .receiptHandle(m.receiptHandle()).build()).toList()));
                    }
                    for (Message message : messages) {
                        int n = taskMarker(message.body());
                        if (n >= 0) {
                            tasks.inSqs[n]++;
                            Request request = tasks.requests.get(n);
                            if (message.messageId().equals(request.messageId)) {
                                sqsMessageIdMatches.merge(n, 1, Integer::sum);
                            }
                        }
                    }
                }
                Map<QueueAttributeName, String> left = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl)
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes();
                if (!"0".equals(left.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))) {
                    mark("SQS still shows " + left + " visible messages after the reads");
                }
            }
        }

        private void readFallback(MongoDatabase database) {
            tasks.inFallback = new int[tasks.items];
            events.inFallback = new int[events.items];
            for (Document document : database.getCollection(FALLBACK).find()) {
                Object body = document.get("body");
                int n = body instanceof String text ? taskMarker(text) : -1;
                if (n >= 0) {
                    tasks.inFallback[n]++;
                }
            }
        }

        private void readSendEvent(MongoDatabase database) {
            tasks.inSendEvent = new int[tasks.items];
            events.inSendEvent = new int[events.items];
            for (Document document : database.getCollection("send_event").find()) {
                List<?> data = document.getList("data", Object.class, List.of());
                for (Object item : data) {
                    if (item instanceof Document event && event.get("eventMeta") instanceof Document meta
                        && runId.equals(meta.get("run")) && meta.get("n") instanceof Number n
                        && n.intValue() >= 0 && n.intValue() < events.items) {
                        events.inSendEvent[n.intValue()]++;
                    }
                }
            }
        }

        /** The n of a task body of this run, or -1. */
        private int taskMarker(String body) {
            try {
                JsonNode data = JSON.readTree(body).path("data");
                int n = data.path("n").asInt(-1);
                return runId.equals(data.path("run").asText()) && n >= 0 && n < tasks.items ? n : -1;
            } catch (IOException e) {
                return -1;
            }
        }

        private int report() {
            System.out.printf("%nTimeline (seconds from the start of the load)%n");
            synchronized (timeline) {
                timeline.forEach(line -> System.out.println("  " + line));
            }
            Figures t = Figures.of(tasks);
            Figures e = Figures.of(events);
            System.out.printf("%n%-48s %10s %10s%n", "", "tasks", "events");
            row("requests sent", t.requests, e.requests);
            row("items (one task; " + settings.eventsPerRequest() + " events a request)", t.items, e.items);
            row("attempts (first tries and retries)", tasks.attempts.get(), events.attempts.get());
            row("2xx received (requests)", t.acknowledgedRequests, e.acknowledgedRequests);
            row("  of which fallback (task kept in MongoDB)", t.fallbackRequests, e.fallbackRequests);
            System.out.println("non-2xx answers (attempts)");
            Set<String> outcomes = new TreeSet<>();
            tasks.answers.keySet().stream().filter(o -> !o.startsWith("2")).forEach(outcomes::add);
            events.answers.keySet().stream().filter(o -> !o.startsWith("2")).forEach(outcomes::add);
            for (String outcome : outcomes) {
                row("  " + outcome, count(tasks, outcome), count(events, outcome));
            }
            row("requests without a 2xx at the end", t.requests - t.acknowledgedRequests,
                    e.requests - e.acknowledgedRequests);
            row("items acknowledged (2xx)", t.acknowledgedItems, e.acknowledgedItems);
            row("items found afterwards", t.foundItems, e.foundItems);
            row("  in SQS", t.inSqs, e.inSqs);
            row("  in " + FALLBACK, t.inFallback, e.inFallback);
            row("  in send_event", t.inSendEvent, e.inSendEvent);
            row("lost: acknowledged, not found (must be 0)", t.lost, e.lost);
            row("duplicates: found more than once (must be 0)", t.duplicates, e.duplicates);
            row("  extra copies", t.extraCopies, e.extraCopies);
            row("unacknowledged but found (fine)", t.unacknowledgedFound, e.unacknowledgedFound);
            row("unacknowledged, not found (fine)", t.unacknowledgedMissing, e.unacknowledgedMissing);
            long ackedInSqs = tasks.requests.stream().filter(r -> r.acknowledged && !r.fallback).count();
            System.out.printf("%nEvery request carried an Idempotency-Key. Of the %,d tasks acknowledged as queued,"
                              + " %,d have their acknowledged messageId in SQS.%n", ackedInSqs,
                    sqsMessageIdMatches.size());
            if (!tasks.firstAnswers.isEmpty() || !events.firstAnswers.isEmpty()) {
                System.out.printf("%nThe first non-2xx answer of each kind:%n");
            }
            for (Tally tally : List.of(tasks, events)) {
                new TreeMap<>(tally.firstAnswers).forEach((outcome, first) -> System.out.printf("  %s %s at %s%n",
                        tally == tasks ? "tasks " : "events", outcome, first));
            }
            examples("lost", tasks, events, (tally, n) -> tally.requestOf(n).acknowledged && tally.found(n) == 0);
            examples("duplicated", tasks, events, (tally, n) -> tally.found(n) > 1);
            int lost = t.lost + e.lost;
            int duplicates = t.duplicates + e.duplicates;
            System.out.printf("%nRESULT: %s (lost %d, duplicates %d)%n", lost == 0 && duplicates == 0 ? "PASS" : "FAIL",
                    lost, duplicates);
            return lost == 0 && duplicates == 0 ? 0 : 1;
        }

        interface ItemFilter {
            boolean test(Tally tally, int item);
        }

        /** Up to 30 items that match, with what their request went through. */
        private void examples(String what, Tally tasks, Tally events, ItemFilter filter) {
            List<String> lines = new ArrayList<>();
            for (Tally tally : List.of(tasks, events)) {
                for (int n = 0; n < tally.items && lines.size() < 30; n++) {
                    if (filter.test(tally, n)) {
                        Request request = tally.requestOf(n);
                        List<String> history;
                        synchronized (request.history) {
                            history = new ArrayList<>(request.history);
                        }
                        lines.add(String.format("  %s %d: SQS %d, fallback %d, send_event %d; request %s (key %s):"
                                                + " %s", request.kind, n, tally.inSqs[n], tally.inFallback[n],
                                tally.inSendEvent[n], request.index, request.key, String.join(", ", history)));
                    }
                }
            }
            if (!lines.isEmpty()) {
                System.out.printf("%nItems %s (at most 30), with the attempts of their request (sent at + answered"
                                  + " after):%n", what);
                lines.forEach(System.out::println);
            }
        }

        private static int count(Tally tally, String outcome) {
            AtomicInteger count = tally.answers.get(outcome);
            return count == null ? 0 : count.get();
        }

        private static void row(String label, long tasks, long events) {
            System.out.printf("%-48s %,10d %,10d%n", label, tasks, events);
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

        private void sleepUntil(double secondsFromStart) throws InterruptedException {
            long wait = startNanos + seconds(secondsFromStart) - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
        }

        private static long seconds(double seconds) {
            return (long) (seconds * 1e9);
        }
    }

    /** The figures of one kind, item by item. */
    record Figures(int requests, int items, int acknowledgedRequests, int fallbackRequests, int acknowledgedItems,
                   int foundItems, int inSqs, int inFallback, int inSendEvent, int lost, int duplicates,
                   int extraCopies, int unacknowledgedFound, int unacknowledgedMissing) {

        static Figures of(Tally tally) {
            int acknowledgedRequests = 0;
            int fallbackRequests = 0;
            for (Request request : tally.requests) {
                acknowledgedRequests += request.acknowledged ? 1 : 0;
                fallbackRequests += request.acknowledged && request.fallback ? 1 : 0;
            }
            int acknowledgedItems = 0;
            int foundItems = 0;
            int inSqs = 0;
            int inFallback = 0;
            int inSendEvent = 0;
            int lost = 0;
            int duplicates = 0;
            int extraCopies = 0;
            int unacknowledgedFound = 0;
            int unacknowledgedMissing = 0;
            for (Request request : tally.requests) {
                for (int n = request.firstItem; n < request.firstItem + request.items; n++) {
                    int found = tally.found(n);
                    inSqs += tally.inSqs[n];
                    inFallback += tally.inFallback[n];
                    inSendEvent += tally.inSendEvent[n];
                    foundItems += found > 0 ? 1 : 0;
                    duplicates += found > 1 ? 1 : 0;
                    extraCopies += Math.max(0, found - 1);
                    if (request.acknowledged) {
                        acknowledgedItems++;
                        lost += found == 0 ? 1 : 0;
                    } else if (found > 0) {
                        unacknowledgedFound++;
                    } else {
                        unacknowledgedMissing++;
                    }
                }
            }
            return new Figures(tally.requests.size(), tally.items, acknowledgedRequests, fallbackRequests,
                    acknowledgedItems, foundItems, inSqs, inFallback, inSendEvent, lost, duplicates, extraCopies,
                    unacknowledgedFound, unacknowledgedMissing);
        }
    }
}
