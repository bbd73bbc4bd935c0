package com.metropia.portal.messaging.config;

import com.metropia.portal.messaging.InvalidConfigurationException;
import com.metropia.portal.messaging.PortalMessagingBeans;
import com.metropia.portal.messaging.events.EventTypeSchemas;
import com.metropia.portal.messaging.events.IncentiveEvents;
import com.metropia.portal.messaging.http.ApiKeyAuthentication;
import com.metropia.portal.messaging.http.HttpEdge;
import com.metropia.portal.messaging.http.HttpPortCheck;
import com.metropia.portal.messaging.http.HttpProblems;
import com.metropia.portal.messaging.http.HttpServerListening;
import com.metropia.portal.messaging.http.PortalOpenApi;
import com.metropia.portal.messaging.http.VertxErrorPages;
import com.metropia.portal.messaging.support.JsonSchemas;
import com.metropia.portal.messaging.support.MongoRetries;
import com.metropia.portal.messaging.support.PortalJson;
import com.metropia.portal.messaging.tasks.PortalTasks;
import com.metropia.portal.messaging.tasks.SendMessageResults;
import com.metropia.portal.messaging.tasks.SqsErrors;
import com.metropia.portal.messaging.tasks.TaskBatches;
import com.metropia.portal.messaging.tasks.TaskDeduplicationIds;
import com.metropia.portal.messaging.tasks.TaskFallback;
import com.metropia.portal.messaging.tasks.TaskKeys;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.health.PortalHealthChecks;
import com.metropia.portal.messaging.metrics.PortalMetrics;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.aws2.sqs.ExchangeIdMessageDeduplicationIdStrategy;
import org.apache.camel.component.aws2.sqs.Sqs2Endpoint;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.SimpleEventNotifierSupport;
import org.apache.camel.support.service.ServiceSupport;
import org.apache.camel.util.concurrent.SynchronousExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/**
 * The beans the YAML routes use, and the SQS and MongoDB clients built from {@code portal.*} properties.
 * <p>
 * A host application that binds its own {@link SqsClient} or {@link MongoClient} keeps it: the clients here are only
 * built when the registry has none. Missing or contradictory settings stop the start-up with a message naming them.
 */
public class PortalConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(PortalConfiguration.class);

    /** Registry name of the mapper; its presence marks the beans as installed. */
    public static final String OBJECT_MAPPER = "portalObjectMapper";

    @Override
    public void configure(CamelContext context) throws Exception {
        install(context);
    }

    /**
     * Binds what the routes use, once per context, whoever asks first: this configuration class in the stand-alone
     * service, or {@link PortalMessagingBeans} (declared in the route files) in an application that only includes the
     * routes. Either way it runs after the application's own beans are bound, so that its clients win.
     * <p>
     * Every setting is read before anything connects, and every problem found is reported at once in an
     * {@link InvalidConfigurationException}; then, unless {@code portal.startup.check-backends=false}, the queue and
     * MongoDB must answer (each within {@code portal.startup.check-timeout-ms}) before anything is bound.
     */
    public static synchronized void install(CamelContext context) throws Exception {
        Registry registry = context.getRegistry();
        if (registry.lookupByName(OBJECT_MAPPER) != null) {
            return;
        }
        ObjectMapper mapper = PortalJson.newObjectMapper();
        PropertiesComponent properties = context.getPropertiesComponent();
        // already there when the route files declared PortalMessagingBeans; not when an application calls this itself
        PortalDefaults.addTo(properties);
        ConfigurationProblems problems = new ConfigurationProblems(properties);
        int maxMessageBytes = problems.intSetting("portal.sqs.max-message-bytes", 1,
                PortalTasks.SQS_MAX_MESSAGE_BYTES);
        int abandonedSeconds = problems.intSetting("portal.tasks.idempotency-abandoned-seconds", 1, MAX);
        int claimSeconds = problems.intSetting("portal.tasks.redrive-claim-seconds", 1, MAX);
        int keyTtlHours = problems.intSetting("portal.tasks.idempotency-ttl-hours", 1, MAX);
        int maxBackoffSeconds = problems.intSetting("portal.tasks.redrive-max-backoff-seconds", 1, MAX);
        int maxBatch = problems.intSetting("portal.tasks.max-batch", 1, MAX);
        int sqsAttempts = problems.intSetting("portal.sqs.max-attempts", 1, MAX);
        int sqsRetryDelay = problems.intSetting("portal.sqs.retry-base-delay-ms", 0, MAX);
        int mongoAttempts = problems.intSetting("portal.mongodb.max-attempts", 1, MAX);
        int mongoBaseDelay = problems.intSetting("portal.mongodb.retry-base-delay-ms", 0, MAX);
        int mongoMaxDelay = problems.intSetting("portal.mongodb.retry-max-delay-ms", 0, MAX);
        boolean checkBackends = problems.booleanSetting(CHECK_BACKENDS);
        Duration checkTimeout = Duration.ofMillis(problems.intSetting(CHECK_TIMEOUT, 1, MAX));
        // read by the routes and the HTTP answers as placeholders: a wrong one would fail later, with a stack trace
        problems.intSetting("portal.events.batch-size", 1, MAX);
        problems.intSetting("portal.events.pending-batch-wait-ms", 0, MAX);
        problems.intSetting("portal.events.max-events", 1, MAX);
        problems.intSetting("portal.tasks.redrive-period-ms", 1, MAX);
        problems.intSetting("portal.tasks.redrive-max-attempts", 1, MAX);
        problems.intSetting("portal.http.retry-after-seconds", 0, MAX);
        problems.intSetting("portal.http.port", 0, 65535);
        String database = problems.setting("portal.mongodb.database");
        String keysCollection = problems.setting("portal.tasks.idempotency-collection");
        String tasksPath = problems.setting("portal.http.tasks-path");
        String eventsPath = problems.setting("portal.http.events-path");
        SqsClient sqs = registry.findSingleByType(SqsClient.class);
        SqsClientBuilder sqsBuilder = sqs == null ? sqsClientBuilder(problems, sqsAttempts) : null;
        String queue = queueName(problems);
        ConnectionString mongoUri = registry.findSingleByType(MongoClient.class) == null ? mongoUri(problems) : null;
        int serverSelectionTimeout = problems.intSetting("portal.mongodb.server-selection-timeout-ms", 1, MAX);
        if (serverEnabled(context)) {
            httpServerProblems(context, problems);
        }
        // One JSON Schema per event type, read and compiled once, here: a broken file stops the start like a setting.
        EventTypeSchemas eventTypes = EventTypeSchemas.load(context, problems::add);
        problems.throwIfAny();

        SqsClient ownSqs = null;
        MongoClient ownMongo = null;
        try {
            // The MongoDB client connects in the background as soon as it exists, and its ping runs beside the SQS
            // calls: the checks take as long as the slower backend, not both in turn.
            MongoClient mongo = registry.findSingleByType(MongoClient.class);
            if (mongo == null) {
                mongo = ownMongo = newMongoClient(mongoUri, serverSelectionTimeout);
            }
            CompletableFuture<List<String>> mongoCheck = null;
            if (checkBackends) {
                MongoClient checked = mongo;
                mongoCheck = CompletableFuture.supplyAsync(() -> BackendChecks.mongo(checked, database, checkTimeout),
                        runnable -> startCheckThread(runnable, "portal-startup-mongodb-check"));
            }
            if (sqs == null) {
                sqs = ownSqs = sqsBuilder.build();
            }
            String queueUrl = resolveQueueUrl(properties, sqs, queue, checkTimeout, problems);
            if (checkBackends) {
                if (queueUrl != null) {
                    problems.addAll(BackendChecks.sqs(sqs, queueUrl, checkTimeout));
                }
                problems.addAll(mongoCheck.join());
            } else {
                LOG.warn("{}=false: SQS and MongoDB were not checked at start-up", CHECK_BACKENDS);
            }
            problems.throwIfAny();
        } catch (RuntimeException e) {
            closeAll(ownSqs, ownMongo);
            throw e;
        }
        if (ownSqs != null) {
            registry.bind("portalSqsClient", ownSqs);
            closeOnStop(context, ownSqs);
        }
        if (ownMongo != null) {
            registry.bind("portalMongoClient", ownMongo);
            closeOnStop(context, ownMongo);
        }
        PortalJson json = new PortalJson(mapper);
        PortalTasks tasks = new PortalTasks(mapper, maxMessageBytes);
        registry.bind("portalJson", json);
        registry.bind("portalTasks", tasks);
        IncentiveEvents events = new IncentiveEvents(mapper);
        registry.bind("portalEvents", events);
        registry.bind("portalEventLogLine", events.logLine());
        JsonSchemas schemas = new JsonSchemas();
        registry.bind("portalSchemas", schemas);
        registry.bind("portalEventTypes", eventTypes);
        TaskKeys taskKeys = new TaskKeys(database, keysCollection,
                Duration.ofSeconds(abandonedSeconds), Duration.ofHours(keyTtlHours));
        TaskFallback taskFallback = new TaskFallback(Duration.ofSeconds(claimSeconds),
                Duration.ofSeconds(maxBackoffSeconds));
        registry.bind("portalTaskKeys", taskKeys);
        registry.bind("portalTaskFallback", taskFallback);
        // arrays of tasks, sent with SendMessageBatch (README, "POST /api/tasks")
        TaskBatches taskBatches = new TaskBatches(mapper, json, tasks, taskFallback, taskKeys, maxBatch,
                sqsAttempts, Duration.ofMillis(sqsRetryDelay));
        registry.bind("portalTaskBatches", taskBatches);
        registry.bind("portalSqsErrors", new SqsErrors());
        registry.bind("portalSqsOutage", new SqsErrors.Outage());
        MongoRetries mongoRetries = new MongoRetries(mongoAttempts);
        registry.bind("portalMongoRetries", mongoRetries);
        registry.bind("portalMongoRedelivery", mongoRetries.redeliveryPolicy(mongoBaseDelay, mongoMaxDelay));
        HttpProblems http = new HttpProblems(mapper);
        registry.bind("portalHttp", http);
        // the hot steps of the routes, as processors rather than bean calls
        RouteSteps.bind(registry, json, tasks, taskKeys, taskBatches, schemas, eventTypes, events, http);
        // Runs each completed batch on the thread that split the request, so the caller learns how every batch went.
        registry.bind("portalSynchronousExecutor", new SynchronousExecutorService());
        // Readiness of SQS and MongoDB, and the fallback depth, as Camel health checks (README, "Health and metrics").
        PortalHealthChecks.install(context);
        // portal_* metrics beside Camel's, where Micrometer is (the stand-alone service; a host application may lack it)
        if (context.getClassResolver().resolveClass(MICROMETER) != null) {
            PortalMetrics.install(context);
        }
        // The OpenAPI document of the HTTP API, from the JSON Schema files the routes validate with.
        registry.bind("portalOpenApi", new PortalOpenApi(mapper, tasksPath, eventsPath));
        registry.bind(OBJECT_MAPPER, mapper);
        // camel-aws2-sqs takes a deduplication strategy only by name: ours goes on its endpoints as they are created.
        context.getCamelContextExtension().registerEndpointCallback((uri, endpoint) -> {
            if (endpoint instanceof Sqs2Endpoint sqsEndpoint && sqsEndpoint.getConfiguration()
                    .getMessageDeduplicationIdStrategy() instanceof ExchangeIdMessageDeduplicationIdStrategy) {
                sqsEndpoint.getConfiguration().setMessageDeduplicationIdStrategy(new TaskDeduplicationIds());
            }
            return endpoint;
        });
        // The HTTP server is optional (an embedding application may run none): only then are its errors dressed.
        if (context.getClassResolver().resolveClass(VERTX_ROUTER) != null) {
            // before the server starts: its connections get the limits of portal.http.*
            HttpEdge.install(context, mapper);
            context.getManagementStrategy().addEventNotifier(new SimpleEventNotifierSupport() {
                @Override
                public void notify(CamelEvent event) {
                    // the server listens from here on; the routes' consumers start next
                    if (event instanceof CamelEvent.CamelContextRoutesStartingEvent) {
                        VertxErrorPages.install(context, mapper);
                    }
                }
            });
            context.addStartupListener(new HttpServerListening());
        }
    }

    private static final String MICROMETER = "io.micrometer.core.instrument.MeterRegistry";
    private static final String VERTX_ROUTER = "org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter";
    static final String CHECK_BACKENDS = "portal.startup.check-backends";
    static final String CHECK_TIMEOUT = "portal.startup.check-timeout-ms";
    private static final int MAX = Integer.MAX_VALUE;

    /** Camel Main's embedded HTTP server (camel-platform-http-main) is on the class path and switched on. */
    private static boolean serverEnabled(CamelContext context) {
        return context.getClassResolver().resolveClass(VERTX_ROUTER) != null
               && PortalConfiguration.optional(context.getPropertiesComponent(), "camel.server.enabled")
                       .map(Boolean::parseBoolean).orElse(false);
    }

    /**
     * The HTTP API's keys (when the API's route file is included: it declares {@link ApiKeyAuthentication}), and
     * the server's port, free now.
     */
    private static void httpServerProblems(CamelContext context, ConfigurationProblems problems) {
        if (!context.getRegistry().findByType(ApiKeyAuthentication.class).isEmpty()) {
            problems.addAll(ApiKeyAuthentication.settingProblems(context.getPropertiesComponent()));
        }
        // only an address set in properties: an application may set its server's port in code
        String port = problems.optional("camel.server.port").orElse(null);
        if (port != null && port.matches("[0-9]{1,5}") && Integer.parseInt(port) > 0) {
            // Camel's own default: a host application's server is not given the service's settings
            String host = problems.optional("camel.server.host").orElse("0.0.0.0");
            HttpPortCheck.problem(host, Integer.parseInt(port)).ifPresent(problems::add);
        }
    }

    private static SqsClientBuilder sqsClientBuilder(ConfigurationProblems problems, int attempts) {
        int maxConnections = problems.intSetting("portal.sqs.max-connections", 1, MAX);
        SqsClientBuilder builder = SqsClient.builder()
                // The Apache client is several times faster than the URLConnection one on this path. No
                // "Expect: 100-continue": it waits a round trip for SQS's go-ahead before every message body (at most
                // 1 MiB, so little to save), which cost a third of the single-task rate; connections kept alive.
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(maxConnections)
                        .expectContinueEnabled(false).tcpKeepAlive(true));
        region(problems).ifPresent(builder::region);
        RetryStrategy retries = retryStrategy(problems, attempts);
        builder.overrideConfiguration(config -> config
                .addExecutionInterceptor(new SendMessageResults())
                .retryStrategy(retries));
        problems.optional("portal.sqs.endpoint").ifPresent(endpoint -> {
            try {
                URI uri = new URI(endpoint);
                if (uri.getScheme() == null || uri.getHost() == null) {
                    throw new URISyntaxException(endpoint, "no scheme or host");
                }
                builder.endpointOverride(uri);
            } catch (URISyntaxException e) {
                problems.add("portal.sqs.endpoint (PORTAL_SQS_ENDPOINT) must be a URL such as http://127.0.0.1:9324,"
                             + " not '" + endpoint + "'");
            }
        });
        var accessKey = problems.optional("portal.sqs.access-key");
        var secretKey = problems.optional("portal.sqs.secret-key");
        if (accessKey.isPresent() != secretKey.isPresent()) {
            problems.add("portal.sqs.access-key and portal.sqs.secret-key go together: set both"
                         + " (PORTAL_SQS_ACCESS_KEY, PORTAL_SQS_SECRET_KEY) or neither to use the AWS default"
                         + " credential chain");
        } else if (accessKey.isPresent()) {
            builder.credentialsProvider(
                    StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey.get(), secretKey.get())));
        }
        return builder;
    }

    /**
     * Bounded retries of throttled, failed or unreachable calls, with exponential backoff and jitter: by default 4
     * attempts, waits from 200 ms up to 2 s, a few seconds in all before the caller is told the task was not queued.
     */
    private static RetryStrategy retryStrategy(ConfigurationProblems problems, int attempts) {
        Duration base = Duration.ofMillis(problems.intSetting("portal.sqs.retry-base-delay-ms", 0, MAX));
        Duration max = Duration.ofMillis(problems.intSetting("portal.sqs.retry-max-delay-ms", 0, MAX));
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(attempts)
                .backoffStrategy(BackoffStrategy.exponentialDelay(base, max))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(base, max))
                .build();
    }

    private static java.util.Optional<Region> region(ConfigurationProblems problems) {
        var region = problems.optional("portal.sqs.region");
        if (region.isPresent()) {
            return region.map(Region::of);
        }
        try {
            return java.util.Optional.of(new DefaultAwsRegionProviderChain().getRegion());
        } catch (SdkException e) {
            problems.add("No AWS region: set portal.sqs.region (PORTAL_SQS_REGION) or AWS_REGION, or a region in the"
                         + " AWS profile");
            return java.util.Optional.empty();
        }
    }

    private static String queueName(ConfigurationProblems problems) {
        String queue = problems.setting("portal.sqs.queue");
        if (queue.contains("://")) {
            problems.add("portal.sqs.queue (PORTAL_SQS_QUEUE) takes a queue name; put the URL " + queue
                         + " in portal.sqs.queue-url (PORTAL_SQS_QUEUE_URL)");
        }
        problems.optional("portal.sqs.queue-url").filter(url -> !url.matches("(?i)https?://[^/]+/.+"))
                .ifPresent(url -> problems.add("portal.sqs.queue-url (PORTAL_SQS_QUEUE_URL) must be the URL of a"
                                               + " queue, such as https://sqs.us-west-2.amazonaws.com/123456789012/"
                                               + "portal-tasks, not '" + url + "'"));
        return queue;
    }

    /**
     * The route sends to the queue URL, so it needs no ListQueues permission. Without portal.sqs.queue-url the URL is
     * looked up once here with GetQueueUrl, which needs SQS even when the start-up checks are off.
     */
    private static String resolveQueueUrl(PropertiesComponent properties, SqsClient sqs, String queue,
                                          Duration timeout, ConfigurationProblems problems) {
        var given = optional(properties, "portal.sqs.queue-url");
        if (given.isPresent()) {
            return given.get();
        }
        String url;
        try {
            url = sqs.getQueueUrl(b -> b.queueName(queue).overrideConfiguration(o -> o.apiCallTimeout(timeout)))
                    .queueUrl();
        } catch (SdkException e) {
            String problem = BackendChecks.describe(e, sqs, "SQS queue '" + queue + "' (portal.sqs.queue)", timeout);
            problems.add(e instanceof QueueDoesNotExistException ? problem
                    : problem + ". Or set portal.sqs.queue-url (PORTAL_SQS_QUEUE_URL) to start without the lookup");
            return null;
        }
        LOG.info("SQS queue {} is at {}", queue, url);
        properties.addOverrideProperty("portal.sqs.queue-url", url);
        return url;
    }

    private static ConnectionString mongoUri(ConfigurationProblems problems) {
        String uri = problems.optional("portal.mongodb.uri").orElse(null);
        if (uri == null) {
            problems.add("portal.mongodb.uri (PORTAL_MONGODB_URI) is not set: the MongoDB connection string, for"
                         + " example mongodb://user:password@host:27017/?tls=true&w=majority");
            return null;
        }
        ConnectionString connection;
        try {
            connection = new ConnectionString(uri);
        } catch (IllegalArgumentException e) {
            // The message of the driver does not repeat the URI, which can hold a password.
            problems.add("portal.mongodb.uri is not a valid MongoDB connection string: " + e.getMessage());
            return null;
        }
        if (connection.getWriteConcern() != null && !connection.getWriteConcern().isAcknowledged()) {
            problems.add("portal.mongodb.uri asks for unacknowledged writes (w=0): the service could not tell a"
                         + " caller whether its events were stored");
        }
        return connection;
    }

    private static MongoClient newMongoClient(ConnectionString connection, int serverSelectionTimeout) {
        MongoClientSettings.Builder settings = MongoClientSettings.builder()
                .applicationName("portal-messaging")
                .applyConnectionString(connection);
        if (connection.getServerSelectionTimeout() == null) {
            // The driver waits 30 s by default: too long for an HTTP caller waiting for an answer.
            settings.applyToClusterSettings(cluster -> cluster.serverSelectionTimeout(serverSelectionTimeout,
                    TimeUnit.MILLISECONDS));
        }
        LOG.info("MongoDB at {}", connection.getHosts());
        return MongoClients.create(settings.build());
    }

    public static java.util.Optional<String> optional(PropertiesComponent properties, String key) {
        return properties.resolveProperty(key).map(String::trim).filter(value -> !value.isEmpty());
    }

    /** The MongoDB start-up check runs on a thread of its own, which never keeps the JVM alive. */
    private static void startCheckThread(Runnable check, String name) {
        Thread thread = new Thread(check, name);
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeAll(AutoCloseable... clients) throws Exception {
        for (AutoCloseable client : clients) {
            if (client != null) {
                client.close();
            }
        }
    }

    private static void closeOnStop(CamelContext context, AutoCloseable client) throws Exception {
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() throws Exception {
                client.close();
            }
        });
    }
}
