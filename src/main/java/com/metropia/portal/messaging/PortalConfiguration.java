package com.metropia.portal.messaging;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
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
    static final String OBJECT_MAPPER = "portalObjectMapper";

    @Override
    public void configure(CamelContext context) throws Exception {
        install(context);
    }

    /**
     * Binds what the routes use, once per context, whoever asks first: this configuration class in the stand-alone
     * service, or {@link PortalMessagingBeans} (declared in the route files) in an application that only includes the
     * routes. Either way it runs after the application's own beans are bound, so that its clients win.
     */
    public static synchronized void install(CamelContext context) throws Exception {
        Registry registry = context.getRegistry();
        if (registry.lookupByName(OBJECT_MAPPER) != null) {
            return;
        }
        ObjectMapper mapper = PortalJson.newObjectMapper();
        PropertiesComponent properties = context.getPropertiesComponent();
        // Settings and clients first: a missing or wrong setting stops the start before anything is bound.
        int maxMessageBytes = intProperty(properties, "portal.sqs.max-message-bytes", PortalTasks.SQS_MAX_MESSAGE_BYTES);
        if (maxMessageBytes < 1 || maxMessageBytes > PortalTasks.SQS_MAX_MESSAGE_BYTES) {
            throw new IllegalStateException("portal.sqs.max-message-bytes must be between 1 and "
                                            + PortalTasks.SQS_MAX_MESSAGE_BYTES + " (the SQS limit), not "
                                            + maxMessageBytes);
        }
        SqsClient sqs = registry.findSingleByType(SqsClient.class);
        if (sqs == null) {
            sqs = newSqsClient(properties);
            registry.bind("portalSqsClient", sqs);
            closeOnStop(context, sqs);
        }
        resolveQueueUrl(properties, sqs);
        if (registry.findSingleByType(MongoClient.class) == null) {
            MongoClient mongo = newMongoClient(properties);
            registry.bind("portalMongoClient", mongo);
            closeOnStop(context, mongo);
        }
        registry.bind("portalJson", new PortalJson(mapper));
        registry.bind("portalTasks", new PortalTasks(mapper, maxMessageBytes));
        registry.bind("portalEvents", new IncentiveEvents(mapper));
        registry.bind("portalTaskKeys", new TaskKeys(
                optional(properties, "portal.mongodb.database").orElse("portal"),
                optional(properties, "portal.tasks.idempotency-collection").orElse("send_task_keys"),
                Duration.ofSeconds(intProperty(properties, "portal.tasks.idempotency-abandoned-seconds", 60))));
        registry.bind("portalTaskFallback", new TaskFallback(
                Duration.ofSeconds(intProperty(properties, "portal.tasks.redrive-claim-seconds", 60))));
        MongoRetries mongoRetries = new MongoRetries(intProperty(properties, "portal.mongodb.max-attempts", 3));
        registry.bind("portalMongoRetries", mongoRetries);
        registry.bind("portalMongoRedelivery", mongoRetries.redeliveryPolicy(
                intProperty(properties, "portal.mongodb.retry-base-delay-ms", 200),
                intProperty(properties, "portal.mongodb.retry-max-delay-ms", 2000)));
        registry.bind("portalHttp", new HttpProblems(mapper));
        // Runs each completed batch on the thread that split the request, so the caller learns how every batch went.
        registry.bind("portalSynchronousExecutor", new SynchronousExecutorService());
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
        }
    }

    private static final String VERTX_ROUTER = "org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter";

    static SqsClient newSqsClient(PropertiesComponent properties) {
        SqsClientBuilder builder = SqsClient.builder()
                // The Apache client is several times faster than the URLConnection one on this path.
                .httpClientBuilder(ApacheHttpClient.builder()
                        .maxConnections(intProperty(properties, "portal.sqs.max-connections", 50)))
                .region(region(properties))
                .overrideConfiguration(config -> config
                        .addExecutionInterceptor(new SendMessageResults())
                        .retryStrategy(retryStrategy(properties)));
        optional(properties, "portal.sqs.endpoint").ifPresent(endpoint -> builder.endpointOverride(URI.create(endpoint)));
        var accessKey = optional(properties, "portal.sqs.access-key");
        var secretKey = optional(properties, "portal.sqs.secret-key");
        if (accessKey.isPresent() != secretKey.isPresent()) {
            throw new IllegalStateException("portal.sqs.access-key and portal.sqs.secret-key go together: set both"
                                            + " (PORTAL_SQS_ACCESS_KEY, PORTAL_SQS_SECRET_KEY) or neither to use the"
                                            + " AWS default credential chain");
        }
        if (accessKey.isPresent()) {
            builder.credentialsProvider(
                    StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey.get(), secretKey.get())));
        }
        return builder.build();
    }

    /**
     * Bounded retries of throttled, failed or unreachable calls, with exponential backoff and jitter: by default 4
     * attempts, waits from 200 ms up to 2 s, a few seconds in all before the caller is told the task was not queued.
     */
    private static RetryStrategy retryStrategy(PropertiesComponent properties) {
        int attempts = intProperty(properties, "portal.sqs.max-attempts", 4);
        if (attempts < 1) {
            throw new IllegalStateException("portal.sqs.max-attempts must be at least 1, not " + attempts);
        }
        Duration base = Duration.ofMillis(intProperty(properties, "portal.sqs.retry-base-delay-ms", 200));
        Duration max = Duration.ofMillis(intProperty(properties, "portal.sqs.retry-max-delay-ms", 2000));
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(attempts)
                .backoffStrategy(BackoffStrategy.exponentialDelay(base, max))
                .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(base, max))
                .build();
    }

    private static Region region(PropertiesComponent properties) {
        var region = optional(properties, "portal.sqs.region");
        if (region.isPresent()) {
            return Region.of(region.get());
        }
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkException e) {
            throw new IllegalStateException("No AWS region: set portal.sqs.region (PORTAL_SQS_REGION) or AWS_REGION,"
                                            + " or a region in the AWS profile");
        }
    }

    /**
     * The route sends to the queue URL, so it needs no ListQueues permission. Without portal.sqs.queue-url the URL is
     * looked up once here with GetQueueUrl.
     */
    static void resolveQueueUrl(PropertiesComponent properties, SqsClient sqs) {
        String queue = optional(properties, "portal.sqs.queue").orElse("portal-tasks");
        if (queue.contains("://")) {
            throw new IllegalStateException("portal.sqs.queue takes a queue name; put the URL " + queue
                                            + " in portal.sqs.queue-url (PORTAL_SQS_QUEUE_URL)");
        }
        if (optional(properties, "portal.sqs.queue-url").isPresent()) {
            return;
        }
        String url;
        try {
            url = sqs.getQueueUrl(b -> b.queueName(queue)).queueUrl();
        } catch (QueueDoesNotExistException e) {
            throw new IllegalStateException("SQS queue '" + queue + "' (portal.sqs.queue) does not exist", e);
        } catch (SdkException e) {
            throw new IllegalStateException("Cannot look up the URL of SQS queue '" + queue + "': " + e.getMessage()
                                            + ". Set portal.sqs.queue-url (PORTAL_SQS_QUEUE_URL) to start without"
                                            + " the lookup",
                    e);
        }
        LOG.info("SQS queue {} is at {}", queue, url);
        properties.addOverrideProperty("portal.sqs.queue-url", url);
    }

    static MongoClient newMongoClient(PropertiesComponent properties) {
        String uri = optional(properties, "portal.mongodb.uri").orElseThrow(() -> new IllegalStateException(
                "portal.mongodb.uri (PORTAL_MONGODB_URI) is not set: the MongoDB connection string, for example"
                                                                                     + " mongodb://user:password@host:27017/?tls=true&w=majority"));
        ConnectionString connection;
        try {
            connection = new ConnectionString(uri);
        } catch (IllegalArgumentException e) {
            // The message of the driver does not repeat the URI, which can hold a password.
            throw new IllegalStateException("portal.mongodb.uri is not a valid MongoDB connection string: "
                                            + e.getMessage());
        }
        if (connection.getWriteConcern() != null && !connection.getWriteConcern().isAcknowledged()) {
            throw new IllegalStateException("portal.mongodb.uri asks for unacknowledged writes (w=0): the service"
                                            + " could not tell a caller whether its events were stored");
        }
        MongoClientSettings.Builder settings = MongoClientSettings.builder()
                .applicationName("portal-messaging")
                .applyConnectionString(connection);
        if (connection.getServerSelectionTimeout() == null) {
            // The driver waits 30 s by default: too long for an HTTP caller waiting for an answer.
            int timeout = intProperty(properties, "portal.mongodb.server-selection-timeout-ms", 3000);
            settings.applyToClusterSettings(cluster -> cluster.serverSelectionTimeout(timeout, TimeUnit.MILLISECONDS));
        }
        LOG.info("MongoDB at {}", connection.getHosts());
        return MongoClients.create(settings.build());
    }

    static java.util.Optional<String> optional(PropertiesComponent properties, String key) {
        return properties.resolveProperty(key).map(String::trim).filter(value -> !value.isEmpty());
    }

    private static int intProperty(PropertiesComponent properties, String key, int defaultValue) {
        String value = optional(properties, key).orElse(null);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(key + " must be a whole number, not '" + value + "'");
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
