package com.metropia.portal.messaging.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.PortalMessagingApplication;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import org.apache.camel.main.Main;
import org.bson.Document;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Throughput of the service through HTTP, next to a baseline measured in the same run on the same emulators: a plain
 * Java client doing the least the job needs (parse the events and insert 500-event documents; send each task with the
 * AWS SDK). Prints figures; asserts nothing. Each phase runs for a bounded time against loopback only.
 * <p>
 * {@code mvn test-compile exec:java@benchmark} (optional arguments: seconds per phase, events per request).
 */
public final class ThroughputBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String API_KEY = "benchmark-key";

    private ThroughputBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // The test logging (WARN): the per-event INFO lines would measure the console, not the routes.
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:log4j2-test.properties");
        }
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int eventsPerRequest = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        String eventsBody = events(eventsPerRequest);
        String taskBody = "{\"action\":\"book_ride\",\"data\":{\"user_id\":12345,\"ride_type\":\"standard\"}}";

        try (EmbeddedEmulators emulators = EmbeddedEmulators.start("127.0.0.1", 0, 0)) {
            String queueUrl = emulators.createQueue("benchmark");
            Main service = startService(emulators, queueUrl);
            int port = Integer.parseInt(service.getCamelContext().resolvePropertyPlaceholders("{{portal.http.port}}"));
            try (MongoClient mongo = MongoClients.create(emulators.mongoUri());
                 SqsClient sqs = emulators.newSqsClient()) {
                MongoCollection<Document> baselineCollection = mongo.getDatabase("baseline").getCollection("send_event");
                System.out.printf("%nportal-messaging throughput, %d s a phase, %d cores, %d events a request%n",
                        seconds, Runtime.getRuntime().availableProcessors(), eventsPerRequest);

                double baselineEvents = run("baseline: parse + insertOne of 500-event documents", 4, seconds,
                        () -> {
                            insertInBatches(baselineCollection, eventsBody);
                            return eventsPerRequest;
                        });
                HttpClient http = HttpClient.newHttpClient();
                URI events = URI.create("http://127.0.0.1:" + port + "/api/events");
                double serviceEvents = run("service: POST /api/events", 4, seconds,
                        () -> post(http, events, eventsBody, 201) * eventsPerRequest);
                System.out.printf("  events: service %.0f/s = %.2f of the baseline%n", serviceEvents,
                        serviceEvents / baselineEvents);

                double baselineTasks = run("baseline: AWS SDK SendMessage", 16, seconds, () -> {
                    sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(taskBody));
                    return 1;
                });
                URI tasks = URI.create("http://127.0.0.1:" + port + "/api/tasks");
                double serviceTasks = run("service: POST /api/tasks", 16, seconds, () -> post(http, tasks, taskBody, 202));
                System.out.printf("  tasks: service %.0f/s = %.2f of the baseline%n", serviceTasks,
                        serviceTasks / baselineTasks);
            } finally {
                service.stop();
            }
        }
        System.exit(0);
    }

    private static Main startService(EmbeddedEmulators emulators, String queueUrl) {
        Main main = PortalMessagingApplication.createMain();
        Map.of("portal.http.port", String.valueOf(EmbeddedEmulators.freePort("127.0.0.1")),
                "portal.sqs.endpoint", emulators.sqsEndpoint(),
                "portal.sqs.region", EmbeddedEmulators.REGION,
                "portal.sqs.access-key", EmbeddedEmulators.ACCESS_KEY,
                "portal.sqs.secret-key", EmbeddedEmulators.SECRET_KEY,
                "portal.sqs.queue", "benchmark",
                "portal.sqs.queue-url", queueUrl,
                "portal.mongodb.uri", emulators.mongoUri(),
                "portal.mongodb.database", "benchmark",
                "portal.api-keys", API_KEY).forEach(main::addOverrideProperty);
        main.start();
        return main;
    }

    private static void insertInBatches(MongoCollection<Document> collection, String body) {
        try {
            List<?> events = JSON.readValue(body, List.class);
            for (int from = 0; from < events.size(); from += 500) {
                collection.insertOne(new Document("action", "event")
                        .append("data", events.subList(from, Math.min(from + 500, events.size())))
                        .append("created_at", new Date()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int post(HttpClient http, URI uri, String body, int expected) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri)
                .header("X-API-Key", API_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expected) {
            throw new IllegalStateException(uri + " answered " + response.statusCode() + ": " + response.body());
        }
        return 1;
    }

    interface Work {
        int call() throws Exception;
    }

    /** Runs the work on the threads for the time given (after a short warm-up) and prints items per second. */
    private static double run(String name, int threads, int seconds, Work work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            measure(pool, threads, Math.max(2, seconds / 4), work);
            double rate = measure(pool, threads, seconds, work);
            System.out.printf("  %-55s %,10.0f /s  (%d threads)%n", name, rate, threads);
            return rate;
        } finally {
            pool.shutdownNow();
        }
    }

    private static double measure(ExecutorService pool, int threads, int seconds, Work work) throws Exception {
        AtomicLong items = new AtomicLong();
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            running.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    items.addAndGet(work.call());
                }
                return null;
            }));
        }
        for (Future<?> future : running) {
            future.get();
        }
        return items.get() / ((System.nanoTime() - start) / 1e9);
    }

    private static String events(int count) {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            body.append(i == 0 ? "" : ",").append("{\"userIds\":[\"").append(1000 + i % 97)
                    .append("\",\"42\"],\"eventName\":\"trip_completed\",\"eventMeta\":{\"trip_id\":\"trip_")
                    .append(i).append("\",\"distance\":5.2,\"duration\":1800}}");
        }
        return body.append(']').toString();
    }
}
