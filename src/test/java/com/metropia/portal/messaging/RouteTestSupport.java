package com.metropia.portal.messaging;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import org.apache.camel.CamelContext;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.ToDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PatternHelper;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.test.junit5.CamelTestSupport;
import org.apache.camel.util.StringHelper;
import org.bson.Document;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The route test kit: a camel-test-junit5 {@link CamelTestSupport} whose CamelContext holds the project's route files
 * from {@code routes/} (as edited), with {@code application.properties} and the service's beans and clients, pointed at
 * the in-process SQS (ElasticMQ) and MongoDB (mongo-java-server) every test of the project shares. Each test gets a
 * new context, an empty queue of the class's own and an empty database of the class's own; it calls
 * {@code direct:task} and {@code direct:events} with {@link #template}, asserts on {@link MockEndpoint}s and
 * {@link org.apache.camel.builder.NotifyBuilder}, and reads what landed with {@link #sqs} and {@link #mongo}.
 * <p>
 * By default only {@code tasks.camel.yaml} and {@code events.camel.yaml} are loaded, without an HTTP server; a test
 * that also needs the HTTP edge overrides {@link #withHttp()}. To intercept the SQS or MongoDB endpoints, a test
 * overrides {@link #isUseAdviceWith()} to return true, calls {@link #copiesSentTo(String)} (or
 * {@link AdviceWith#adviceWith} itself, with logXml false, and {@link #SQS} or {@link #MONGODB} as the pattern
 * of {@code weaveByToUri}) and then starts the context with {@code context.start()}.
 */
public abstract class RouteTestSupport extends CamelTestSupport {

    /** Every SQS endpoint of the routes, as a pattern of {@code weaveByToUri} or {@code mockEndpoints}. */
    public static final String SQS = "aws2-sqs:*";

    /** Every MongoDB endpoint of the routes, as a pattern of {@code weaveByToUri} or {@code mockEndpoints}. */
    public static final String MONGODB = "mongodb:*";

    /** The route files a test without HTTP loads: the two paths a Java caller uses through {@code direct:}. */
    public static final List<String> TASKS_AND_EVENTS = List.of("tasks.camel.yaml", "events.camel.yaml");

    /** The API key of a test with HTTP, which {@link #httpRequest(String)} sends. */
    protected static final String API_KEY = PortalService.API_KEY;

    protected final EmbeddedEmulators emulators = SharedEmulators.get();
    protected SqsClient sqs;
    protected MongoClient mongo;
    protected String queueUrl;
    protected String database;
    private int httpPort;

    /** Settings on top of {@code application.properties} and those that reach the emulators. */
    protected Map<String, String> properties() {
        return Map.of();
    }

    /** Whether {@code http-api.camel.yaml} is loaded too and the HTTP server started (on a free port). */
    protected boolean withHttp() {
        return false;
    }

    /**
     * The folder the route files are read from: {@code routes/}, or a copy a test edited (asked once per test, before
     * the routes are loaded).
     */
    protected Path routesFolder() {
        return Path.of("routes");
    }

    /** The class's own queue; a name ending in .fifo makes a FIFO queue. */
    protected String queueName() {
        return getClass().getSimpleName().toLowerCase();
    }

    @Override
    protected void setupResources() throws Exception {
        super.setupResources();
        queueUrl = emulators.createQueue(queueName());
        database = "portal_" + getClass().getSimpleName().toLowerCase();
        sqs = emulators.newSqsClient();
        mongo = MongoClients.create(emulators.mongoUri());
        sqs.purgeQueue(b -> b.queueUrl(queueUrl));
        mongo.getDatabase(database).drop();
    }

    @Override
    protected void cleanupResources() throws Exception {
        if (sqs != null) {
            sqs.close();
        }
        if (mongo != null) {
            mongo.close();
        }
        super.cleanupResources();
    }

    @Override
    protected CamelContext createCamelContext() throws Exception {
        CamelContext context = super.createCamelContext();
        // The settings as the service reads them, then those that reach this test's emulators, queue and database.
        context.getPropertiesComponent().setLocation("file:application.properties;optional=true");
        Properties overrides = new Properties();
        overrides.putAll(PortalService.emulatorProperties(emulators, queueUrl, database));
        overrides.put("portal.sqs.queue-url", queueUrl);
        // Several tests stop SQS or MongoDB on purpose; the start-up checks have tests of their own.
        overrides.put("portal.startup.check-backends", "false");
        overrides.put("camel.server.enabled", String.valueOf(withHttp()));
        if (withHttp()) {
            httpPort = PortalService.freePort();
            overrides.put("portal.http.port", String.valueOf(httpPort));
            overrides.put("camel.server.port", String.valueOf(httpPort));
            MainHttpServer server = new MainHttpServer();
            server.setCamelContext(context);
            server.setHost("127.0.0.1");
            server.setPort(httpPort);
            server.setMaxBodySize(Long.valueOf(
                    context.resolvePropertyPlaceholders("{{camel.server.max-body-size:10485760}}")));
            context.addService(server, true, true);
        }
        overrides.putAll(properties());
        context.getPropertiesComponent().setOverrideProperties(overrides);
        return context;
    }

    /**
     * Loads the route files into the context, as a host application including them does; their {@code beans} entry
     * installs the service's beans and clients (PortalMessagingBeans).
     */
    @Override
    protected RoutesBuilder createRouteBuilder() throws Exception {
        List<String> files = new ArrayList<>(TASKS_AND_EVENTS);
        if (withHttp()) {
            files.add("http-api.camel.yaml");
        }
        Path folder = routesFolder();
        List<Resource> resources = new ArrayList<>();
        for (String file : files) {
            resources.add(ResourceHelper.resolveMandatoryResource(context,
                    "file:" + folder.resolve(file).toAbsolutePath()));
        }
        PluginHelper.getRoutesLoader(context).loadRoutes(resources);
        return new RouteBuilder() {
            @Override
            public void configure() {
                // the routes are those of the files
            }
        };
    }

    /*
     * AdviceWith is called with logXml false throughout: in Camel 4.17 the XML dump of the route (made when its logger
     * is at INFO) gives an error handler that names its redelivery policy by reference (event-batch-insert) an empty
     * redelivery policy as well, and the route then fails to start ("Cannot have both redeliveryPolicy and
     * redeliveryPolicyRef").
     */

    /**
     * Advises every route that sends to an endpoint matching the pattern ({@link #SQS}, {@link #MONGODB}) so that a
     * copy of each exchange the endpoint took goes on to the mock endpoint returned, named after the component
     * ({@code mock:aws2-sqs}, {@code mock:mongodb}); the real endpoint is still called. Call it before
     * {@code context.start()}, in a test whose {@link #isUseAdviceWith()} is true.
     */
    protected MockEndpoint copiesSentTo(String pattern) throws Exception {
        String mock = "mock:" + StringHelper.before(pattern, ":");
        for (RouteDefinition route : List.copyOf(context.getRouteDefinitions())) {
            if (sendsTo(route.getOutputs(), pattern)) {
                AdviceWith.adviceWith(context, route.getRouteId(), false, advice -> advice.weaveByToUri(pattern)
                        .after().to(mock));
            }
        }
        return getMockEndpoint(mock);
    }

    private boolean sendsTo(List<ProcessorDefinition<?>> outputs, String pattern) {
        for (ProcessorDefinition<?> output : outputs) {
            if (output instanceof ToDefinition to
                && PatternHelper.matchPattern(to.getUri(), pattern)) {
                return true;
            }
            if (sendsTo(output.getOutputs(), pattern)) {
                return true;
            }
        }
        return false;
    }

    /** The class's send_event collection. */
    protected MongoCollection<Document> sendEvent() {
        return mongo.getDatabase(database).getCollection("send_event");
    }

    /** The send_event documents in insertion order. */
    protected List<Document> storedDocuments() {
        return sendEvent().find().sort(new Document("created_at", 1).append("_id", 1)).into(new ArrayList<>());
    }

    /** The number of events in each send_event document, in insertion order. */
    protected List<Integer> storedBatchSizes() {
        return storedDocuments().stream().map(d -> d.getList("data", Object.class).size()).toList();
    }

    /** What arrives in the class's queue within 10 s, or sooner once the expected number is in (left in flight). */
    protected List<Message> receiveAll(int expected) {
        return PortalTestSupport.receive(sqs, queueUrl, expected, Duration.ofSeconds(10));
    }

    /** A request to the HTTP API of a test {@link #withHttp() with HTTP}, carrying the API key. */
    protected HttpRequest.Builder httpRequest(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).header("X-API-Key", API_KEY);
    }

    /** {@code count} events of request {@code request}: eventMeta says which request and position they come from. */
    protected static String events(int count, String request) {
        return PortalTestSupport.events(count, request);
    }
}
