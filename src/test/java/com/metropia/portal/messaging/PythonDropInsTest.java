package com.metropia.portal.messaging;

import com.metropia.portal.messaging.support.Idempotency;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.bench.FaultProxy;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import org.apache.camel.api.management.ManagedCamelContext;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Python drop-ins of the README ("From the Python portal"), run as they are written there with python3 against the
 * service: every failure names the URL, and a call retried after a timeout or while its first try is still being sent
 * stores and sends exactly one copy, read back with the MongoDB driver and the AWS SDK.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PythonDropInsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path WORK = Path.of("target", "python-drop-ins");

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private HoldingProxy sqsProxy;
    private HoldingProxy mongoProxy;
    /** Between the service and mongoProxy: cuts MongoDB off. */
    private FaultProxy mongoCut;
    private PortalService service;
    private SqsClient sqs;
    private MongoClient mongo;
    private String queueUrl;
    private final String database = "portal_python";

    @BeforeAll
    void writeTheDropInsAndStartTheService() throws IOException {
        Files.createDirectories(WORK);
        Files.writeString(WORK.resolve("portal_messaging.py"), dropInsOfTheReadme());
        queueUrl = emulators.createQueue("python-drop-ins");
        sqsProxy = HoldingProxy.to(emulators.sqsPort());
        mongoProxy = HoldingProxy.to(emulators.mongoPort());
        mongoCut = FaultProxy.start("mongodb", "127.0.0.1", mongoProxy.port());
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        // SQS and MongoDB through proxies that hold what the service sends while a test says so
        properties.put("portal.sqs.endpoint", "http://127.0.0.1:" + sqsProxy.port());
        properties.put("portal.sqs.queue-url", queueUrl);
        // a request held at the proxy for longer than the driver's 10 s heartbeat timeout would be cut by the driver
        properties.put("portal.mongodb.uri", "mongodb://127.0.0.1:" + mongoCut.port() + "/?connectTimeoutMS=30000");
        // a MongoDB cut off is a 503 within a few seconds, to be tried again after 1 s
        properties.put("portal.mongodb.server-selection-timeout-ms", "1000");
        properties.put("portal.mongodb.max-attempts", "2");
        properties.put("portal.http.retry-after-seconds", "1");
        // the test reads its routes' exchange counts through JMX, off by default
        properties.put("camel.main.jmx-enabled", "true");
        service = PortalService.start(properties);
        sqs = emulators.newSqsClient();
        mongo = MongoClients.create(emulators.mongoUri());
    }

    @AfterAll
    void stop() {
        if (service != null) {
            service.close();
        }
        for (AutoCloseable closeable : new AutoCloseable[] {sqsProxy, mongoCut, mongoProxy, sqs, mongo}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                // closing anyway
            }
        }
    }

    @Test
    void should_raise_an_error_naming_the_url_when_the_service_does_not_answer() throws Exception {
        String url = "http://127.0.0.1:" + PortalService.freePort();
        JsonNode result = python(url, PortalService.API_KEY, """
                out(call(lambda: pm.send_sqs_task('user_registration', {'user_id': 1})))
                """);

        assertThat(result.get("error").asText()).isEqualTo("PortalMessagingError");
        assertThat(result.get("message").asText()).startsWith("portal-messaging at " + url + "/api/tasks did not answer")
                .contains("after 4 tries").contains("Idempotency-Key " + result.get("key").asText());
        assertThat(result.get("url").asText()).isEqualTo(url + "/api/tasks");
        assertThat(result.get("status").isNull()).isTrue();
    }

    @Test
    void should_raise_at_once_an_error_naming_the_url_and_the_answer_when_the_call_is_refused() throws Exception {
        JsonNode result = python(serviceUrl(), "not-a-key", """
                out(call(lambda: pm.send_sqs_event([{'userIds': ['1'], 'eventName': 'x', 'eventMeta': {}}])))
                """);

        assertThat(result.get("message").asText())
                .startsWith("portal-messaging at " + serviceUrl() + "/api/events answered 401: ")
                .doesNotContain("tries");
        assertThat(result.get("status").asInt()).isEqualTo(401);
        assertThat(result.get("problem").get("status").asInt()).isEqualTo(401);
    }

    @Test
    void should_store_one_copy_when_a_timed_out_events_call_is_tried_again_while_the_first_try_still_stores()
            throws Exception {
        String run = UUID.randomUUID().toString();
        mongoProxy.hold();
        CompletableFuture<JsonNode> call;
        try {
            // 1,200 events; MongoDB holds the first try past its timeout
            call = CompletableFuture.supplyAsync(() -> python(serviceUrl(), PortalService.API_KEY, """
                    events = [{'userIds': [str(n)], 'eventName': 'trip_completed', 'eventMeta': {'run': '%s', 'n': n}}
                              for n in range(1200)]
                    out(call(lambda: pm.send_sqs_event(events, timeout=10)))
                    """.formatted(run)));
            // the second try has arrived while the first one is still in flight
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> service.context().getInflightRepository().size("incentive-events") >= 2);
        } finally {
            mongoProxy.release();
        }
        JsonNode result = call.get(120, TimeUnit.SECONDS);

        assertThat(result.has("error")).as(result.toString()).isFalse();
        assertThat(result.get("events").asInt()).isEqualTo(1200);
        assertThat(result.get("documents").asInt()).isEqualTo(3);
        List<Document> stored = mongo.getDatabase(database).getCollection("send_event")
                .find(Filters.eq("data.eventMeta.run", run)).into(new ArrayList<>());
        assertThat(stored).extracting(document -> String.valueOf(document.get("_id")))
                .containsExactlyInAnyOrderElementsOf(strings(result.get("ids")));
        List<Integer> numbers = new ArrayList<>();
        stored.forEach(document -> document.getList("data", Document.class)
                .forEach(event -> numbers.add(event.get("eventMeta", Document.class).getInteger("n"))));
        assertThat(numbers).as("each event once").hasSize(1200).doesNotHaveDuplicates();
    }

    @Test
    void should_wait_as_the_503_says_and_store_the_events_once_mongodb_is_back() throws Exception {
        String run = UUID.randomUUID().toString();
        ManagedCamelContext managed = service.context().getCamelContextExtension()
                .getContextPlugin(ManagedCamelContext.class);
        long answeredBefore = managed.getManagedRoute("http-events").getExchangesTotal();
        mongoCut.down();
        CompletableFuture<JsonNode> call;
        try {
            call = CompletableFuture.supplyAsync(() -> python(serviceUrl(), PortalService.API_KEY, """
                    import time
                    events = [{'userIds': [str(n)], 'eventName': 'trip_completed', 'eventMeta': {'run': '%s', 'n': n}}
                              for n in range(600)]
                    started = time.monotonic()
                    result = call(lambda: pm.send_sqs_event(events))
                    result['seconds'] = time.monotonic() - started
                    out(result)
                    """.formatted(run)));
            // the first try was answered (503: MongoDB did not answer)
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> managed.getManagedRoute("http-events").getExchangesTotal() > answeredBefore);
        } finally {
            mongoCut.up();
        }
        JsonNode result = call.get(120, TimeUnit.SECONDS);

        assertThat(result.has("error")).as(result.toString()).isFalse();
        assertThat(result.get("documents").asInt()).isEqualTo(2);
        assertThat(result.get("seconds").asDouble()).as("waited the Retry-After of 1 s").isGreaterThanOrEqualTo(1.0);
        List<Integer> numbers = new ArrayList<>();
        mongo.getDatabase(database).getCollection("send_event").find(Filters.eq("data.eventMeta.run", run))
                .forEach(document -> document.getList("data", Document.class)
                        .forEach(event -> numbers.add(event.get("eventMeta", Document.class).getInteger("n"))));
        assertThat(numbers).as("each event once").hasSize(600).doesNotHaveDuplicates();
    }

    @Test
    void should_send_one_task_when_it_is_tried_again_while_its_first_try_is_being_sent() throws Exception {
        String run = UUID.randomUUID().toString();
        ManagedCamelContext managed = service.context().getCamelContextExtension()
                .getContextPlugin(ManagedCamelContext.class);
        long answeredBefore = managed.getManagedRoute("http-tasks").getExchangesTotal();
        sqsProxy.hold();
        CompletableFuture<JsonNode> call;
        try {
            call = CompletableFuture.supplyAsync(() -> python(serviceUrl(), PortalService.API_KEY, """
                    out(call(lambda: pm.send_sqs_task('dropin_test', {'run': '%s'}, timeout=5)))
                    """.formatted(run)));
            // the first try waits at SQS; a later one was answered (409 in-progress) meanwhile
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> managed.getManagedRoute("http-tasks").getExchangesTotal() > answeredBefore
                                 && service.context().getInflightRepository().size("task-to-sqs") == 1);
        } finally {
            sqsProxy.release();
        }
        JsonNode result = call.get(120, TimeUnit.SECONDS);

        assertThat(result.has("error")).as(result.toString()).isFalse();
        List<Message> mine = PortalTestSupport.receive(sqs, queueUrl, 2, Duration.ofSeconds(5)).stream()
                .filter(message -> message.body().contains(run)).toList();
        assertThat(mine).as("one message").hasSize(1);
        assertThat(mine.get(0).messageId()).isEqualTo(result.get("messageId").asText());
        assertThat(mine.get(0).body())
                .isEqualTo("{\"action\":\"dropin_test\",\"data\":{\"run\":\"" + run + "\"}}");
    }

    private String serviceUrl() {
        String uri = service.uri("").toString();
        return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return values;
    }

    /** The python block of the README's "From the Python portal": the drop-ins exactly as users copy them. */
    static String dropInsOfTheReadme() throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        int section = readme.indexOf("### From the Python portal");
        assertThat(section).as("README section \"From the Python portal\"").isNotNegative();
        Matcher block = Pattern.compile("```python\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(block.find(section)).as("a python block in that section").isTrue();
        return block.group(1);
    }

    /**
     * Runs a few lines of Python with the drop-ins imported as {@code pm}; {@code call(f)} turns what f returns or
     * raises into a dict and {@code out(d)} prints it as the JSON this returns.
     */
    private static JsonNode python(String url, String apiKey, String lines) {
        String script = """
                import json, sys
                sys.path.insert(0, %s)
                import portal_messaging as pm

                def call(f):
                    try:
                        return f()
                    except pm.PortalMessagingError as e:
                        return {'error': type(e).__name__, 'message': str(e), 'url': e.url, 'status': e.status,
                                'problem': e.problem, 'key': e.idempotency_key}
                    except Exception as e:
                        return {'error': type(e).__name__, 'message': str(e)}

                def out(result):
                    print('RESULT ' + json.dumps(result))

                """.formatted(pythonString(WORK.toAbsolutePath().toString())) + lines;
        try {
            ProcessBuilder builder = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true);
            builder.environment().put("PORTAL_MESSAGING_URL", url);
            builder.environment().put("PORTAL_MESSAGING_API_KEY", apiKey);
            builder.environment().keySet().removeIf(name -> name.toLowerCase().endsWith("_proxy"));
            Process process = builder.start();
            CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return e.toString();
                }
            });
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("python3 did not finish within 120 s: " + output.getNow(""));
            }
            String text = output.get(10, TimeUnit.SECONDS);
            Matcher result = Pattern.compile("^RESULT (.*)$", Pattern.MULTILINE).matcher(text);
            assertThat(result.find()).as("python3 printed a result:\n" + text).isTrue();
            assertThat(process.exitValue()).as(text).isZero();
            return JSON.readTree(result.group(1));
        } catch (IOException | InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("running python3: " + e, e);
        }
    }

    private static String pythonString(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
