package com.metropia.portal.messaging.bench;

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
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.bench.LoadPhase.Result;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.bson.Document;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * The benchmark of the README: the packaged service as the README runs it (a child process, settings from environment
 * variables, API keys on, the per-event INFO line on), then a second start with the per-event line off, and a third
 * with {@code -Xmx256m} for one very large request, then two starts with the events route replaced by an alternative
 * without an exchange per event ({@link EventsVariants}) and one with a route of only platform-http → aws2-sqs beside
 * the shipped ones (the least a route does to queue a task); each scenario next to a floor measured in the same run,
 * before and after the service's phases, against the same emulator instances by the best plain-Java client: Jackson
 * and the MongoDB driver for events, the AWS SDK with a tuned HTTP client for tasks, a bare Vert.x handler doing the
 * same SQS send for latency. The floors behind a bare Vert.x handler are measured too, as references.
 * <p>
 * Everything listens on and targets 127.0.0.1; each phase runs for a bounded time after a warm-up; MongoDB is emptied
 * and the queue purged before each phase (the emulators share this JVM: what they keep would slow later phases).
 * The services are stopped at the end, or killed when this JVM ends otherwise. Prints one table; asserts nothing.
 * <p>
 * {@code mvn -B -DskipTests package exec:java@benchmark}; settings are system properties {@code bench.*}, see
 * {@link Settings}.
 */
public final class ServiceBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "127.0.0.1";
    private static final String API_KEY = "benchmark-key";
    private static final Map<String, String> PLAIN_HEADERS =
            Map.of("X-API-Key", API_KEY, "Content-Type", "application/json");
    private static final String QUEUE = "benchmark";
    private static final String SERVICE_DATABASE = "benchmark";
    private static final String FLOOR_DATABASE = "benchmark_floor";
    private static final int BATCH = 500;
    private static final String TASK = "{\"action\":\"book_ride\",\"data\":{\"user_id\":12345,\"ride_type\":\"standard\"}}";
    private static final String PER_EVENT_LINE = "Send incentive event";
    /** The entries of the floor's SendMessageBatch: ten tasks. */
    private static final List<SendMessageBatchRequestEntry> TEN_TASKS = java.util.stream.IntStream.range(0, 10)
            .mapToObj(i -> SendMessageBatchRequestEntry.builder().id("t" + i).messageBody(TASK).build()).toList();

    /**
     * System properties {@code bench.<name>}: {@code seconds} (measured seconds a phase, default 8),
     * {@code warmup-seconds} (before each phase's measurement, 3), {@code large-events} (events of the one large
     * request, 100000; 0 skips it), {@code large-xmx} (the heap of the service start that takes the large request once
     * more, 256m; empty skips that start), {@code request-timeout-seconds} (of each HTTP request, 120),
     * {@code service-jvm-options} (JVM options of every service start, space-separated, {@code {run}} replaced by the
     * start's name: default, log-off, xmx; e.g. a flight recording;
     * none by default: the README's command has none), {@code scenarios} (comma-separated, any of events, tasks,
     * latency, large, variants; all by default: the start-up is measured with each start), {@code jvm-warmup-seconds}
     * (60: each floor's work run that long, unmeasured, before anything is measured, and each of the service's
     * scenarios after each start).
     */
    record Settings(double seconds, double warmupSeconds, int largeEvents, String largeXmx, Duration requestTimeout,
                    List<String> serviceJvmOptions, List<String> scenarios, double jvmWarmupSeconds) {

        private static final List<String> SCENARIOS = List.of("events", "tasks", "latency", "large", "variants");

        static Settings fromSystemProperties() {
            String jvm = System.getProperty("bench.service-jvm-options", "").trim();
            return new Settings(
                    Double.parseDouble(System.getProperty("bench.seconds", "8")),
                    Double.parseDouble(System.getProperty("bench.warmup-seconds", "3")),
                    Integer.parseInt(System.getProperty("bench.large-events", "100000")),
                    System.getProperty("bench.large-xmx", "256m").trim(),
                    Duration.ofSeconds(Long.parseLong(System.getProperty("bench.request-timeout-seconds", "120"))),
                    jvm.isEmpty() ? List.of() : Arrays.asList(jvm.split("\\s+")),
                    Arrays.stream(System.getProperty("bench.scenarios", String.join(",", SCENARIOS)).split(","))
                            .map(String::trim).filter(name -> !name.isEmpty()).toList(),
                    Double.parseDouble(System.getProperty("bench.jvm-warmup-seconds", "60")));
        }

        /** The scenarios asked for, or a clear refusal of a name that is not one. */
        Settings validated() {
            for (String scenario : scenarios) {
                if (!SCENARIOS.contains(scenario)) {
                    throw new IllegalArgumentException("bench.scenarios: " + scenario + " is not one of " + SCENARIOS);
                }
            }
            return this;
        }

        boolean runs(String scenario) {
            return scenarios.contains(scenario) && (!scenario.equals("large") || largeEvents > 0);
        }
    }

    /** One line of the table: figures, or blanks where a scenario has none. */
    record Row(String scenario, String service, String floor, String ratio, String serviceLatency,
               String floorLatency, String cpu, String rss, String notes) {
    }

    private final Settings settings;
    private final EmbeddedEmulators emulators;
    private final String queueUrl;
    private final MongoClient mongo;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    /** The clients of every measured phase (the JDK's client above only probes and sends the one large request). */
    private final LeanHttpClient load;
    private final List<Row> rows = new ArrayList<>();
    private final List<String> remarks = new ArrayList<>();
    private String header = "portal-messaging benchmark";
    private final byte[] events10k = events(10_000);
    private final byte[] event1 = events(1);
    private final byte[] task = TASK.getBytes(StandardCharsets.UTF_8);
    private final byte[] tasks10 = tasks(10);
    /** As many tasks as an array may hold by default (portal.tasks.max-batch): ten SendMessageBatch calls a request. */
    private final byte[] tasks100 = tasks(100);
    /** The p50 of a 10,000-event request of the default run, in ms: the large request's time per event is set by it. */
    private double tenThousandP50 = Double.NaN;
    private SqsClient bestSqs;
    private String bestSqsName;

    private ServiceBenchmark(Settings settings, EmbeddedEmulators emulators, String queueUrl, MongoClient mongo) {
        this.settings = settings;
        this.emulators = emulators;
        this.queueUrl = queueUrl;
        this.mongo = mongo;
        this.load = new LeanHttpClient(settings.requestTimeout());
    }

    public static void main(String[] args) throws Exception {
        // This JVM's own logging (the emulators'): warnings only
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-test.properties");
        }
        Path jar = Path.of("target", "portal-messaging.jar");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(Path.of("routes"))) {
            System.err.println("Run from the project folder after packaging: mvn -B -DskipTests package exec:java@benchmark");
            System.exit(2);
        }
        Settings settings;
        try {
            settings = Settings.fromSystemProperties().validated();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        int status = 0;
        try (EmbeddedEmulators emulators = EmbeddedEmulators.start(HOST, 0, 0);
             MongoClient mongo = MongoClients.create(emulators.mongoUri())) {
            ServiceBenchmark benchmark = new ServiceBenchmark(settings, emulators, emulators.createQueue(QUEUE), mongo);
            try {
                benchmark.runAll(jar);
            } catch (Exception e) {
                System.out.printf("%nThe benchmark broke off: %s%n", e);
                status = 1;
            } finally {
                benchmark.load.close();
                if (benchmark.bestSqs != null) {
                    benchmark.bestSqs.close();
                }
            }
            benchmark.print();
        }
        System.exit(status);
    }

    private void runAll(Path jar) throws Exception {
        header = String.format(Locale.ROOT, "portal-messaging benchmark, %s: %.0f s a phase after %.0f s of warm-up,"
                                            + " %d cores, the service and the emulators on 127.0.0.1",
                java.time.LocalDateTime.now().withNano(0), settings.seconds(), settings.warmupSeconds(),
                Runtime.getRuntime().availableProcessors());
        System.out.println(header);
        Path logs = Path.of("target", "benchmark");
        warmUp();

        try (BenchService service = startService(jar, logs.resolve("service-default.log"), List.of(), "default run")) {
            AtomicLong acknowledged = new AtomicLong();
            warmUpService(service, acknowledged, settings.runs("events"),
                    settings.runs("tasks") || settings.runs("latency"));
            if (settings.runs("events")) {
                eventsPhases(service, "default run (per-event INFO line on)", acknowledged);
            }

            if (settings.runs("tasks")) {
                tasksPhases(service);
            }
            if (settings.runs("latency")) {
                latencyPhases(service);
            }
            if (settings.runs("variants")) {
                httpReferences();
            }
            if (settings.runs("large") && large(service, "default heap")) {
                acknowledged.addAndGet(settings.largeEvents());
            }
            service.close();
            remarks.add(String.format(Locale.ROOT, "default run: %,d per-event INFO lines in its log for %,d events"
                                                  + " acknowledged with a 2xx (the log: %s)",
                    service.logLinesContaining(PER_EVENT_LINE), acknowledged.get(), service.log()));
        }

        if (settings.runs("events")) {
            eventsWithoutPerEventLine(jar, logs);
        }
        if (settings.runs("variants")) {
            for (Map.Entry<String, String> variant : VARIANTS.entrySet()) {
                eventsVariant(jar, logs, variant.getKey(), variant.getValue());
            }
            minimalTaskRoute(jar, logs);
        }
        if (settings.runs("large") && !settings.largeXmx().isEmpty()) {
            try (BenchService service = startService(jar, logs.resolve("service-xmx.log"),
                    List.of("-Xmx" + settings.largeXmx()), "-Xmx" + settings.largeXmx())) {
                large(service, "-Xmx" + settings.largeXmx());
            }
        }
    }

    private void eventsWithoutPerEventLine(Path jar, Path logs) throws Exception {
        Path quiet = Files.createTempFile("bench-log4j2-events-off", ".properties");
        try {
            // log4j merges the files named in log4j2.configurationFile: the service's own, then this one level
            Files.writeString(quiet, "logger.events.name = portal.events\nlogger.events.level = WARN\n");
            List<String> options = List.of("-Dlog4j2.configurationFile=classpath:portal-messaging/log4j2.properties,"
                                           + quiet.toUri());
            try (BenchService service = startService(jar, logs.resolve("service-log-off.log"), options,
                    "per-event line off")) {
                warmUpService(service, new AtomicLong(), true, false);
                eventsPhases(service, "per-event line off", new AtomicLong());
                service.close();
                remarks.add(String.format(Locale.ROOT, "per-event line off: %,d per-event lines in its log",
                        service.logLinesContaining(PER_EVENT_LINE)));
            }
        } finally {
            Files.deleteIfExists(quiet);
        }
    }

    /**
     * Before anything is measured, the floors' work for a while, unmeasured: the emulators and the clients share this
     * JVM, and on 2 busy cores its JIT compilers take long to reach their hot paths (a run without this measured the
     * single-task floor at 1,938 tasks/s at first and at 10,448 /s twenty minutes later).
     */
    private void warmUp() throws Exception {
        if (settings.jvmWarmupSeconds() <= 0) {
            return;
        }
        System.out.printf("  warming up the emulators and the plain clients, %.0f s a workload%n",
                settings.jvmWarmupSeconds());
        try (SqsClient sqs = sqsClient(tunedHttpClient())) {
            unmeasured(16, sendWork(sqs));
            unmeasured(16, () -> sqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(TEN_TASKS)).successful().size());
        }
        unmeasured(4, insertWork(events10k, 10_000));
        unmeasured(64, insertWork(event1, 1));
        reset();
    }

    /**
     * After a start, the service's requests for a while, unmeasured, as for the floors: users run it for hours, its JIT
     * has reached its hot paths; one start measured with 3 s of warm-up did 1,025 single tasks/s, with 40 s 2,632 /s.
     */
    private void warmUpService(BenchService service, AtomicLong acknowledged, boolean events, boolean tasks)
            throws Exception {
        if (settings.jvmWarmupSeconds() <= 0) {
            return;
        }
        URI eventsUri = service.uri("/api/events");
        URI tasksUri = service.uri("/api/tasks");
        if (events) {
            unmeasured(4, () -> count(acknowledged, post(eventsUri, events10k, false) * 10_000));
            unmeasured(64, () -> count(acknowledged, post(eventsUri, event1, false)));
        }
        if (tasks) {
            unmeasured(16, () -> post(tasksUri, task, false));
            unmeasured(16, () -> post(tasksUri, tasks10, false) * 10);
        }
    }

    /**
     * The work from as many clients for {@code bench.jvm-warmup-seconds}, not measured, in slices of at most 15 s with
     * the emulators emptied before each: they keep what they are sent in this JVM's heap, and a minute of
     * 10,000-event requests filled it (the run stalled in garbage collection and MongoDB's clients timed out).
     */
    private void unmeasured(int clients, LoadPhase.Work work) throws InterruptedException {
        double left = settings.jvmWarmupSeconds();
        while (left > 0) {
            double slice = Math.min(left, 15);
            reset();
            LoadPhase.run(clients, 0, slice, work, () -> { });
            left -= slice;
        }
    }

    /** The alternatives to the events route (test resources, README "What the shape allows"): file, description. */
    private static final Map<String, String> VARIANTS = new LinkedHashMap<>();

    static {
        VARIANTS.put("events-collate", "variant: split by collate(500), no exchange per event");
        VARIANTS.put("events-one-step", "variant: every document in one step, one insertMany, no split");
    }

    /**
     * The service with its events route replaced by one of the benchmark's alternatives (the benchmark's classes on its
     * class path), per-event line on: how far the events get without one exchange per event.
     */
    private void eventsVariant(Path jar, Path logs, String file, String description) throws Exception {
        List<String> options = List.of(
                "-Dlog4j2.configurationFile=classpath:portal-messaging/log4j2.properties",
                "-Dcamel.main.routes-include-pattern=classpath:portal-messaging/routes/http-api.camel.yaml,"
                + "classpath:portal-messaging/routes/tasks.camel.yaml,classpath:bench/" + file + ".camel.yaml",
                "-Dportal.events.types-dir=classpath:portal-messaging/routes/event-types");
        AtomicLong acknowledged = new AtomicLong();
        try (BenchService service = startService(jar, List.of(Path.of("target", "test-classes")),
                logs.resolve("service-" + file + ".log"), options, description + " (no class-data archive)")) {
            warmUpService(service, acknowledged, true, false);
            // no Idempotency-Key phases: the alternatives do not read the key
            eventsPhases(service, description + " (per-event INFO line on)", acknowledged, false);
            service.close();
            remarks.add(String.format(Locale.ROOT, "%s: %,d per-event INFO lines in its log for %,d events"
                                                  + " acknowledged", description,
                    service.logLinesContaining(PER_EVENT_LINE), acknowledged.get()));
        }
    }

    /**
     * The service with one more route, of only platform-http → aws2-sqs ({@code bench/tasks-minimal.camel.yaml}),
     * behind the same HTTP edge and with the same SQS client: single tasks and one task at a time against it, the
     * shipped route's phases again in the same start. What is left of each gap with no step of the tasks route.
     */
    private void minimalTaskRoute(Path jar, Path logs) throws Exception {
        String description = "reference: a route of only platform-http → aws2-sqs in the service, no checks";
        List<String> options = List.of(
                "-Dcamel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:bench/tasks-minimal.camel.yaml");
        try (BenchService service = startService(jar, List.of(Path.of("target", "test-classes")),
                logs.resolve("service-tasks-minimal.log"), options, description + " (no class-data archive)")) {
            URI shipped = service.uri("/api/tasks");
            URI minimal = service.uri("/bench/minimal-task");
            warmUpService(service, new AtomicLong(), false, true);
            if (settings.jvmWarmupSeconds() > 0) {
                unmeasured(16, () -> post(minimal, task, false));
            }
            Floor floor = singleSendFloor();
            servicePhase(service, "tasks, one a request, 16 clients, the shipped route, same start", "tasks/s",
                    floor, 16, () -> post(shipped, task, false), "floor: SendMessage, " + bestSqsName);
            servicePhase(service, "tasks, one a request, 16 clients, " + description, "tasks/s", floor, 16,
                    () -> post(minimal, task, false), "floor: SendMessage, " + bestSqsName);
            floor.close();
            Result bare = bareVertxLatency();
            latencyRow(service, "one task at a time, latency p50, the shipped route, same start", shipped, false,
                    bare);
            latencyRow(service, "one task at a time, latency p50, " + description, minimal, false, bare);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Floors: the best plain-Java client against the same emulators
    // ---------------------------------------------------------------------------------------------------------------

    /** Jackson parse and insertMany of the request's documents, the clients as the service gets them. */
    private Floor eventsFloor(byte[] body, int eventsPerRequest, int clients) throws Exception {
        return new Floor(insertWork(body, eventsPerRequest), clients);
    }

    /** The events floor's work: the body parsed and its documents inserted; counts {@code eventsPerRequest}. */
    private LoadPhase.Work insertWork(byte[] body, int eventsPerRequest) {
        MongoCollection<Document> collection = mongo.getDatabase(FLOOR_DATABASE).getCollection("send_event");
        return () -> {
            insertAsDocuments(collection, body);
            return eventsPerRequest;
        };
    }

    /** The tasks floor's work: SendMessage of a task with the client given. */
    private LoadPhase.Work sendWork(SqsClient sqs) {
        return () -> {
            sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(TASK));
            return 1;
        };
    }

    /** The Apache client configuration of the best floor of the previous versions' runs, for the warm-up. */
    private static ApacheHttpClient.Builder tunedHttpClient() {
        return ApacheHttpClient.builder().maxConnections(64).expectContinueEnabled(false).tcpKeepAlive(true);
    }

    /**
     * SendMessage from 16 threads with a few configurations of the SDK's Apache client; the best one is the floor, and
     * its client the one the other task floors use.
     */
    private Floor tasksFloor() throws Exception {
        Result before = bestSendFloor();
        return new Floor(before, 16, sendWork(bestSqs));
    }

    /** The single-send floor with the client the tasks phases chose, or {@link #tasksFloor()} when none ran yet. */
    private Floor singleSendFloor() throws Exception {
        return bestSqs == null ? tasksFloor() : new Floor(sendWork(bestSqs), 16);
    }

    private Result bestSendFloor() throws Exception {
        Map<String, Supplier<ApacheHttpClient.Builder>> clients = new LinkedHashMap<>();
        clients.put("Apache client, 64 connections",
                () -> ApacheHttpClient.builder().maxConnections(64));
        clients.put("Apache client, 64 connections, no Expect: 100-continue, TCP keep-alive",
                ServiceBenchmark::tunedHttpClient);
        Result best = null;
        for (Map.Entry<String, Supplier<ApacheHttpClient.Builder>> client : clients.entrySet()) {
            SqsClient sqs = sqsClient(client.getValue().get());
            Result result = measuredPhase(16, sendWork(sqs));
            remarks.add(String.format(Locale.ROOT, "tasks floor candidate, SendMessage from 16 threads, %s: %,.0f /s",
                    client.getKey(), result.itemsPerSecond()));
            if (best == null || result.itemsPerSecond() > best.itemsPerSecond()) {
                best = result;
                if (bestSqs != null) {
                    bestSqs.close();
                }
                bestSqs = sqs;
                bestSqsName = client.getKey();
            } else {
                sqs.close();
            }
        }
        return best;
    }

    /** SendMessageBatch of 10 from 16 threads, with the best client of {@link #tasksFloor()}; counted in tasks. */
    private Floor tasksBatchFloor() throws Exception {
        return new Floor(() -> {
            SendMessageBatchResponse response = bestSqs.sendMessageBatch(b -> b.queueUrl(queueUrl)
                    .entries(TEN_TASKS));
            if (!response.failed().isEmpty()) {
                throw new IllegalStateException("SendMessageBatch failed entries: " + response.failed());
            }
            return response.successful().size();
        }, 16);
    }

    /** The large request's events parsed and inserted once, timed. */
    private Result largeFloor(byte[] body) throws Exception {
        MongoCollection<Document> collection = mongo.getDatabase(FLOOR_DATABASE).getCollection("send_event");
        reset();
        long start = System.nanoTime();
        insertAsDocuments(collection, body);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(settings.largeEvents() / seconds, 1, seconds * 1000, seconds * 1000, 0, null, seconds);
    }

    /** Jackson parse, then the request's 500-event documents written in one round trip ({@code insertMany}). */
    private static void insertAsDocuments(MongoCollection<Document> collection, byte[] body) throws IOException {
        List<?> events = JSON.readValue(body, List.class);
        List<Document> documents = new ArrayList<>();
        Date now = new Date();
        for (int from = 0; from < events.size(); from += BATCH) {
            documents.add(new Document("action", "event")
                    .append("data", events.subList(from, Math.min(from + BATCH, events.size())))
                    .append("created_at", now));
        }
        collection.insertMany(documents);
    }

    private SqsClient sqsClient(ApacheHttpClient.Builder httpClient) {
        return SqsClient.builder()
                .httpClientBuilder(httpClient)
                .endpointOverride(URI.create(emulators.sqsEndpoint()))
                .region(Region.of(EmbeddedEmulators.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(EmbeddedEmulators.ACCESS_KEY, EmbeddedEmulators.SECRET_KEY)))
                .build();
    }

    /** One client, one task at a time, to a bare Vert.x handler that sends it with the best SDK client. */
    private Result bareVertxLatency() throws Exception {
        return bareVertx(202, this::sendAsTask, 1, task, 1);
    }

    /** What a bare handler does with a request's body; its answer. */
    private interface BodyWork {
        String apply(byte[] body) throws Exception;
    }

    private String sendAsTask(byte[] body) {
        return "{\"messageId\":\"" + bestSqs.sendMessage(b -> b.queueUrl(queueUrl)
                .messageBody(new String(body, StandardCharsets.UTF_8))).messageId() + "\"}";
    }

    /** The array's tasks, each written out as it came, in one SendMessageBatch (what the service does, no checks). */
    private String sendAsBatch(byte[] body) throws IOException {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode task : JSON.readTree(body)) {
            entries.add(SendMessageBatchRequestEntry.builder().id(String.valueOf(entries.size()))
                    .messageBody(JSON.writeValueAsString(task)).build());
        }
        SendMessageBatchResponse response = bestSqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
        if (!response.failed().isEmpty()) {
            throw new IllegalStateException("SendMessageBatch failed entries: " + response.failed());
        }
        return "{\"queued\":" + response.successful().size() + "}";
    }

    private String insertEvents(byte[] body) throws Exception {
        insertWork(body, 1).call();
        return "{}";
    }

    /**
     * Clients posting to a bare Vert.x HTTP server in this JVM (no Camel, no checks, no API key): each request's body
     * goes to the work on a worker thread (unordered), its answer is written with the status. What an HTTP hop in front
     * of the floor's client costs on this machine; {@code items} are counted for each answered request.
     */
    private Result bareVertx(int status, BodyWork work, int clients, byte[] body, int items) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            HttpServer server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(received ->
                    vertx.executeBlocking(() -> work.apply(received.getBytes()), false)
                            .onComplete(done -> {
                                if (done.succeeded()) {
                                    request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                                            .end(done.result());
                                } else {
                                    request.response().setStatusCode(500).end(String.valueOf(done.cause()));
                                }
                            })))
                    .listen(0, HOST).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            URI uri = URI.create("http://" + HOST + ":" + server.actualPort() + "/");
            return measuredPhase(clients, () -> post(uri, body, null) * items);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** A row of a bare handler measured against the floor of its scenario; it runs in this JVM, so no CPU or RSS. */
    private void referenceRow(String scenario, String unit, Result reference, Floor floor, String notes)
            throws Exception {
        System.out.printf("  %s: %s %s%n", scenario, rate(reference), unit);
        floor.rows.add(best -> rows.add(new Row(scenario, rate(reference) + " " + unit, rate(best) + " " + unit,
                ratio(reference.itemsPerSecond(), best.itemsPerSecond()), latency(reference), latency(best), "", "",
                (notes + "; " + floor.note() + clientCpu(reference) + errors(reference)).replaceFirst("^; ", ""))));
        floor.close();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The service
    // ---------------------------------------------------------------------------------------------------------------

    private BenchService startService(Path jar, Path log, List<String> extraJvmOptions, String name) throws Exception {
        return startService(jar, List.of(), log, extraJvmOptions, name);
    }

    private BenchService startService(Path jar, List<Path> moreClasses, Path log, List<String> extraJvmOptions,
                                      String name) throws Exception {
        reset();
        int port = EmbeddedEmulators.freePort(HOST);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PORTAL_HTTP_HOST", HOST);
        env.put("PORTAL_HTTP_PORT", String.valueOf(port));
        env.put("PORTAL_API_KEYS", API_KEY);
        env.put("PORTAL_SQS_ENDPOINT", emulators.sqsEndpoint());
        env.put("PORTAL_SQS_REGION", EmbeddedEmulators.REGION);
        env.put("PORTAL_SQS_ACCESS_KEY", EmbeddedEmulators.ACCESS_KEY);
        env.put("PORTAL_SQS_SECRET_KEY", EmbeddedEmulators.SECRET_KEY);
        env.put("PORTAL_SQS_QUEUE", QUEUE);
        env.put("PORTAL_SQS_QUEUE_URL", queueUrl);
        env.put("PORTAL_MONGODB_URI", emulators.mongoUri());
        env.put("PORTAL_MONGODB_DATABASE", SERVICE_DATABASE);
        // {run} in an option is the start's name (default, log-off, xmx): one flight recording per start
        String run = log.getFileName().toString().replaceAll("^service-|\\.log$", "");
        List<String> jvm = new ArrayList<>(settings.serviceJvmOptions().stream()
                .map(option -> option.replace("{run}", run)).toList());
        jvm.addAll(extraJvmOptions);
        BenchService service = BenchService.start(jar, moreClasses, log, jvm, env, port);
        try {
            double startup = service.awaitFirstSuccess(http, request(service.uri("/api/tasks"), task)
                    .timeout(Duration.ofSeconds(2)).build(), Duration.ofSeconds(90));
            addRow(new Row("start-up, `java -jar` → first 202 of `POST /api/tasks`, " + name
                             + (settings.serviceJvmOptions().isEmpty() ? ""
                                : " (" + String.join(" ", settings.serviceJvmOptions()) + ")"),
                    String.format(Locale.ROOT, "%.2f s", startup), "—", "—", "", "",
                    String.format(Locale.ROOT, "%.1f", service.cpuSeconds()),
                    String.format(Locale.ROOT, "%.0f", service.peakMemoryMiB()),
                    "Camel says: started in " + service.camelStartedIn()));
            return service;
        } catch (Exception e) {
            service.close();
            throw e;
        }
    }

    private void eventsPhases(BenchService service, String run, AtomicLong acknowledged) throws Exception {
        eventsPhases(service, run, acknowledged, true);
    }

    /** The events scenarios, each without an Idempotency-Key and, when {@code withKeys}, with one. */
    private void eventsPhases(BenchService service, String run, AtomicLong acknowledged, boolean withKeys)
            throws Exception {
        URI uri = service.uri("/api/events");
        boolean[] keys = withKeys ? new boolean[] {false, true} : new boolean[] {false};
        Floor floor = eventsFloor(events10k, 10_000, 4);
        for (boolean key : keys) {
            Result result = servicePhase(service, "events, 10,000-event requests, 4 clients, " + run + withKey(key),
                    "events/s", floor, 4, () -> count(acknowledged, post(uri, events10k, key) * 10_000),
                    "floor: parse + insertMany");
            if (!key && Double.isNaN(tenThousandP50)) {
                tenThousandP50 = result.p50();
            }
        }
        floor.close();
        floor = eventsFloor(event1, 1, 64);
        for (boolean key : keys) {
            servicePhase(service, "events, 1-event requests, 64 clients, " + run + withKey(key), "events/s",
                    floor, 64, () -> count(acknowledged, post(uri, event1, key)), "floor: parse + insertMany");
        }
        floor.close();
    }

    /**
     * The floors of single tasks and of events behind a bare Vert.x handler: how much of each gap an HTTP request
     * alone makes, on this machine, with no Camel and no service around the floor's client.
     */
    private void httpReferences() throws Exception {
        String http = "reference: a bare Vert.x handler in the benchmark's JVM, no Camel";
        Floor floor = eventsFloor(events10k, 10_000, 4);
        referenceRow("events, 10,000-event requests, 4 clients, " + http, "events/s",
                bareVertx(201, this::insertEvents, 4, events10k, 10_000), floor, "handler: parse + insertMany");
        floor = eventsFloor(event1, 1, 64);
        referenceRow("events, 1-event requests, 64 clients, " + http, "events/s",
                bareVertx(201, this::insertEvents, 64, event1, 1), floor, "handler: parse + insertMany");
        Floor single = singleSendFloor();
        referenceRow("tasks, one a request, 16 clients, " + http, "tasks/s",
                bareVertx(202, this::sendAsTask, 16, task, 1), single, "handler: SendMessage, " + bestSqsName);
        Floor batch = tasksBatchFloor();
        Result arrays = bareVertx(200, this::sendAsBatch, 16, tasks10, 10);
        referenceRow("tasks, JSON arrays of 10, 16 clients, " + http, "tasks/s", arrays, batch,
                "handler: parse + SendMessageBatch of 10, " + bestSqsName + "; " + singleSends(arrays, single));
    }

    private void tasksPhases(BenchService service) throws Exception {
        URI uri = service.uri("/api/tasks");
        Floor floor = tasksFloor();
        for (boolean key : new boolean[] {false, true}) {
            servicePhase(service, "tasks, one a request, 16 clients" + withKey(key), "tasks/s", floor,
                    16, () -> post(uri, task, key), "floor: SendMessage, " + bestSqsName);
        }
        floor.close();
        HttpResponse<String> probe = http.send(request(uri, tasks10).build(),
                HttpResponse.BodyHandlers.ofString());
        boolean takesArrays = probe.statusCode() / 100 == 2;
        Floor batchFloor = tasksBatchFloor();
        java.util.function.Function<Result, String> batchNotes =
                result -> "floor: SendMessageBatch of 10, " + bestSqsName + "; " + singleSends(result, floor);
        for (boolean key : new boolean[] {false, true}) {
            String scenario = "tasks, JSON arrays of 10, 16 clients" + withKey(key);
            if (!takesArrays) {
                addRow(new Row(scenario, "n/a", rate(batchFloor.before) + " tasks/s", "", "",
                        latency(batchFloor.before), "", "",
                        "the service answered " + probe.statusCode() + " to an array (no batch support)"));
                continue;
            }
            servicePhase(service, scenario, "tasks/s", batchFloor, 16, () -> post(uri, tasks10, key) * 10,
                    batchNotes);
        }
        if (takesArrays) {
            // the same work in fewer HTTP requests: what the arrays' rate owes to the request around them
            servicePhase(service, "tasks, JSON arrays of 100, 16 clients", "tasks/s", batchFloor, 16,
                    () -> post(uri, tasks100, false) * 100, batchNotes);
        }
        batchFloor.close();
    }

    private static byte[] tasks(int count) {
        return ("[" + String.join(",", java.util.Collections.nCopies(count, TASK)) + "]").getBytes(StandardCharsets.UTF_8);
    }

    /** The arrays' goal: their rate as a multiple of the single-send floor, the better of its two measurements. */
    private static String singleSends(Result arrays, Floor single) {
        double best = single.best().itemsPerSecond();
        return String.format(Locale.ROOT, "%.1f× the single-send floor (%,.0f tasks/s; before and after: %,.0f and %,.0f)",
                arrays.itemsPerSecond() / best, best, single.before.itemsPerSecond(), single.after.itemsPerSecond());
    }

    private void latencyPhases(BenchService service) throws Exception {
        URI uri = service.uri("/api/tasks");
        if (bestSqs == null) {
            tasksFloor(); // the bare handler sends with the best plain client
        }
        Result floor = bareVertxLatency();
        for (boolean key : new boolean[] {false, true}) {
            latencyRow(service, "one task at a time, latency p50" + withKey(key), uri, key, floor);
        }
    }

    /** One client, one task at a time, to the service's {@code uri}, next to the bare handler's {@code floor}. */
    private void latencyRow(BenchService service, String scenario, URI uri, boolean key, Result floor)
            throws Exception {
        reset();
        double cpu = service.cpuSeconds();
        Result result = phase(1, () -> post(uri, task, key), service::resetPeakMemory);
        addRow(new Row(scenario, ms(result.p50()), ms(floor.p50()),
                String.format(Locale.ROOT, "%.2f×", result.p50() / floor.p50()),
                latency(result), latency(floor),
                String.format(Locale.ROOT, "%.1f", service.cpuSeconds() - cpu),
                String.format(Locale.ROOT, "%.0f", service.peakMemoryMiB()),
                String.format(Locale.ROOT, "p99 %.2f× the floor's; floor: a bare Vert.x handler, SendMessage%s",
                        result.p99() / floor.p99(), errors(result))));
    }

    /**
     * One request of many events: its time, the service's CPU and peak memory; a failure is a figure too. True when
     * the service answered 2xx.
     */
    private boolean large(BenchService service, String heap) throws Exception {
        byte[] body = events(settings.largeEvents());
        Result floor = largeFloor(body);
        reset();
        double cpu = service.cpuSeconds();
        service.resetPeakMemory();
        long start = System.nanoTime();
        String scenario = String.format(Locale.ROOT, "one request of %,d events (%.1f MB), %s",
                settings.largeEvents(), body.length / 1e6, heap);
        String failure;
        try {
            HttpResponse<String> response = http.send(request(service.uri("/api/events"), body)
                    .timeout(settings.requestTimeout().multipliedBy(3)).build(), HttpResponse.BodyHandlers.ofString());
            failure = response.statusCode() / 100 == 2 ? null : response.statusCode() + " " + shorten(response.body());
        } catch (IOException e) {
            failure = e.toString();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double rate = settings.largeEvents() / seconds;
        String notes;
        if (failure == null) {
            notes = String.format(Locale.ROOT, "%.1f s", seconds);
            if (!Double.isNaN(tenThousandP50)) {
                notes += String.format(Locale.ROOT, "; per event %.1f× a 10,000-event request's (its p50, 4 clients)",
                        (seconds * 1000 / settings.largeEvents()) / (tenThousandP50 / 10_000));
            }
        } else {
            notes = "answer after " + String.format(Locale.ROOT, "%.1f s: ", seconds) + failure
                    + (service.logLinesContaining("OutOfMemoryError") > 0 ? " (OutOfMemoryError in its log)" : "");
        }
        addRow(new Row(scenario, failure == null ? String.format(Locale.ROOT, "%,.0f events/s", rate) : "failed",
                rate(floor) + " events/s", failure == null ? ratio(rate, floor.itemsPerSecond()) : "",
                String.format(Locale.ROOT, "%,.0f", seconds * 1000), String.format(Locale.ROOT, "%,.0f", floor.p50()),
                String.format(Locale.ROOT, "%.1f", service.cpuSeconds() - cpu),
                String.format(Locale.ROOT, "%.0f", service.peakMemoryMiB()), notes));
        return failure == null;
    }

    private Result servicePhase(BenchService service, String scenario, String unit, Floor floor, int clients,
                              LoadPhase.Work work, String notes) throws Exception {
        return servicePhase(service, scenario, unit, floor, clients, work, result -> notes);
    }

    /** A phase of the service whose notes depend on its result. */
    private Result servicePhase(BenchService service, String scenario, String unit, Floor floor, int clients,
                                LoadPhase.Work work, java.util.function.Function<Result, String> notes)
            throws Exception {
        reset();
        double[] cpuAtStart = new double[1];
        Result result = phase(clients, work, () -> {
            service.resetPeakMemory();
            try {
                cpuAtStart[0] = service.cpuSeconds();
            } catch (IOException e) {
                cpuAtStart[0] = Double.NaN;
            }
        });
        String cpu = String.format(Locale.ROOT, "%.1f", service.cpuSeconds() - cpuAtStart[0]);
        String rss = String.format(Locale.ROOT, "%.0f", service.peakMemoryMiB());
        System.out.printf("  %s: %s %s%n", scenario, rate(result), unit);
        floor.rows.add(best -> rows.add(new Row(scenario, rate(result) + " " + unit, rate(best) + " " + unit,
                ratio(result.itemsPerSecond(), best.itemsPerSecond()), latency(result), latency(best), cpu, rss,
                (notes.apply(result) + "; " + floor.note() + clientCpu(result) + errors(result))
                        .replaceFirst("^; ", ""))));
        return result;
    }

    private Result measuredPhase(int clients, LoadPhase.Work work) throws InterruptedException {
        reset();
        return phase(clients, work);
    }

    /**
     * A floor measured before the service's phases it goes with and again after them; the better of the two is the
     * floor of their rows (added once it is known). The clients and the emulators in this JVM warm up as a run goes
     * on, and the machine's noise moves both: a floor measured once, cold, flattered the service.
     */
    private final class Floor {
        private final Result before;
        private final int clients;
        private final LoadPhase.Work again;
        private final List<java.util.function.Consumer<Result>> rows = new ArrayList<>();
        private Result after;

        /** The floor measured before; {@code again}, from as many clients, measures it after. */
        Floor(Result before, int clients, LoadPhase.Work again) {
            this.before = before;
            this.clients = clients;
            this.again = again;
        }

        Floor(LoadPhase.Work work, int clients) throws Exception {
            this(measuredPhase(clients, work), clients, work);
        }

        /** Measures the floor again and adds the rows against the better of the two measurements. */
        void close() throws Exception {
            after = measuredPhase(clients, again);
            Result best = best();
            rows.forEach(row -> row.accept(best));
        }

        /** The better of the two measurements, once both are made. */
        Result best() {
            return after.itemsPerSecond() > before.itemsPerSecond() ? after : before;
        }

        String note() {
            return after == null ? "" : String.format(Locale.ROOT, "floor before and after: %,.0f and %,.0f /s",
                    before.itemsPerSecond(), after.itemsPerSecond());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Phases, requests, the emulators' state
    // ---------------------------------------------------------------------------------------------------------------

    private Result phase(int clients, LoadPhase.Work work) throws InterruptedException {
        return phase(clients, work, () -> { });
    }

    private Result phase(int clients, LoadPhase.Work work, Runnable atMeasureStart) throws InterruptedException {
        return LoadPhase.run(clients, settings.warmupSeconds(), settings.seconds(), work, atMeasureStart);
    }

    /** Empties what the service and the floors stored and purges the queue, keeping the service's indexes. */
    private void reset() {
        mongo.getDatabase(FLOOR_DATABASE).drop();
        MongoDatabase database = mongo.getDatabase(SERVICE_DATABASE);
        for (String name : database.listCollectionNames()) {
            database.getCollection(name).deleteMany(new Document());
        }
        try (SqsClient sqs = emulators.newSqsClient()) {
            sqs.purgeQueue(b -> b.queueUrl(queueUrl));
        }
        System.gc();
    }

    /** A request of the JDK's client, for the probes and the one large request (no Idempotency-Key). */
    private HttpRequest.Builder request(URI uri, byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
                .timeout(settings.requestTimeout())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        PLAIN_HEADERS.forEach(builder::header);
        return builder;
    }

    /** 1 for a 2xx answer; anything else is thrown, with what the answer said. Sent by the lean load client. */
    private int post(URI uri, byte[] body, Boolean key) throws Exception {
        Map<String, String> headers = PLAIN_HEADERS;
        if (Boolean.TRUE.equals(key)) {
            headers = new java.util.HashMap<>(PLAIN_HEADERS);
            headers.put("Idempotency-Key", UUID.randomUUID().toString());
        }
        LeanHttpClient.Answer answer = load.post(uri, headers, body);
        if (answer.status() / 100 != 2 || answer.status() == 207) {
            throw new IllegalStateException(answer.status() + " " + shorten(answer.body()));
        }
        return 1;
    }

    private static int count(AtomicLong acknowledged, int events) {
        acknowledged.addAndGet(events);
        return events;
    }

    /** Events as the portal sends them, about 80 bytes each: 100,000 of them are 8 MB, under the 10 MiB body limit. */
    static byte[] events(int count) {
        StringBuilder body = new StringBuilder(count * 96).append('[');
        for (int i = 0; i < count; i++) {
            body.append(i == 0 ? "" : ",").append("{\"userIds\":[\"").append(1000 + i % 97)
                    .append("\"],\"eventName\":\"trip_completed\",\"eventMeta\":{\"trip_id\":\"trip_").append(i)
                    .append("\"}}");
        }
        return body.append(']').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A row of the table, and a line on the console so that a long run shows where it is. */
    private void addRow(Row row) {
        rows.add(row);
        System.out.printf("  %s: %s (floor %s)%n", row.scenario(), row.service(), row.floor());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The table
    // ---------------------------------------------------------------------------------------------------------------

    /** The table on the console, and in target/benchmark/table-<time>.md so that runs can be set side by side. */
    private void print() throws IOException {
        StringBuilder table = new StringBuilder(header).append("\n\n");
        table.append("| scenario | service | floor | ratio | service p50 / p99 ms | floor p50 / p99 ms"
                     + " | service CPU s | service peak RSS MiB | notes |\n");
        table.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            table.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    row.scenario(), row.service(), row.floor(), row.ratio(), row.serviceLatency(), row.floorLatency(),
                    row.cpu(), row.rss(), row.notes()));
        }
        table.append('\n');
        remarks.forEach(remark -> table.append("- ").append(remark).append('\n'));
        System.out.printf("%n%s", table);
        Path file = Path.of("target", "benchmark", "table-" + java.time.LocalDateTime.now()
                .format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss")) + ".md");
        Files.createDirectories(file.getParent());
        Files.writeString(file, table);
        System.out.println("(also in " + file + ")");
    }

    private static String withKey(boolean key) {
        return key ? ", with Idempotency-Key" : "";
    }

    private static String rate(Result result) {
        return result == null || !result.ran() ? "—" : String.format(Locale.ROOT, "%,.0f", result.itemsPerSecond());
    }

    private static String ratio(double service, double floor) {
        double ratio = service / floor;
        return String.format(Locale.ROOT, ratio < 0.1 ? "%.3f" : "%.2f", ratio);
    }

    private static String latency(Result result) {
        return result == null || result.calls() == 0 ? ""
                : String.format(Locale.ROOT, "%,.1f / %,.1f", result.p50(), result.p99());
    }

    private static String ms(double millis) {
        return String.format(Locale.ROOT, "%.2f ms", millis);
    }

    /** The load client's own CPU a request (it shares the 2 cores with the service and the emulators). */
    private static String clientCpu(Result result) {
        return Double.isNaN(result.clientCpuMicros()) ? ""
                : String.format(Locale.ROOT, "; load client: %.0f µs CPU a request", result.clientCpuMicros());
    }

    private static String errors(Result result) {
        return result.errors() == 0 ? ""
                : String.format(Locale.ROOT, "; %,d failed calls, first: %s", result.errors(),
                        shorten(result.firstError()));
    }

    private static String shorten(String text) {
        String oneLine = String.valueOf(text).replaceAll("\\s+", " ").replace("|", "/");
        return oneLine.length() > 160 ? oneLine.substring(0, 160) + "…" : oneLine;
    }
}
