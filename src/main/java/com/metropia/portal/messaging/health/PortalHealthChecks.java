package com.metropia.portal.messaging.health;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

import com.metropia.portal.messaging.config.PortalDefaults;
import com.mongodb.client.MongoClient;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Readiness of the service's backends as Camel health checks, served by Camel under
 * {@code camel.management.health-path} ({@code /observe/health/ready}; liveness, {@code /live}, does not include
 * them). Bound as beans: Camel's health check registry picks up every {@code HealthCheck} of the registry.
 * <p>
 * Settings: {@code portal.health.cache-ms} (how long an answer is reused, default 5000), {@code
 * portal.health.timeout-ms} (how long a backend gets to answer, default 1000), {@code
 * portal.health.fallback-threshold} (fallback depth above which the fallback check warns, default 100).
 */
public final class PortalHealthChecks {

    private static final String FALLBACK_CHECK = "portalTaskFallbackHealthCheck";

    private PortalHealthChecks() {
    }

    public static void install(CamelContext context) {
        PropertiesComponent properties = context.getPropertiesComponent();
        Registry registry = context.getRegistry();
        Duration cache = Duration.ofMillis(number(properties, "portal.health.cache-ms", 0));
        Duration timeout = Duration.ofMillis(number(properties, "portal.health.timeout-ms", 1));
        long threshold = number(properties, "portal.health.fallback-threshold", 0);
        String database = PortalDefaults.setting(properties, "portal.mongodb.database");
        String fallback = PortalDefaults.setting(properties, "portal.tasks.fallback-collection");
        String deadLetters = PortalDefaults.setting(properties, "portal.tasks.dead-letter-collection");
        // looked up when a probe comes: the clients and the queue URL are settled by then, whoever made them
        Supplier<SqsClient> sqs = () -> registry.findSingleByType(SqsClient.class);
        Supplier<MongoClient> mongo = () -> registry.findSingleByType(MongoClient.class);
        Supplier<String> queueUrl = () -> value(properties, "portal.sqs.queue-url")
                .orElseThrow(() -> new IllegalStateException("portal.sqs.queue-url is not known yet"));
        Clock clock = Clock.systemUTC();
        registry.bind("portalSqsHealthCheck", new SqsCheck(sqs, queueUrl, timeout, cache, clock));
        MongoCheck mongoCheck = new MongoCheck(mongo, database, timeout, cache, clock);
        registry.bind("portalMongoHealthCheck", mongoCheck);
        registry.bind(FALLBACK_CHECK,
                new TaskFallbackCheck(mongo, mongoCheck, database, fallback, deadLetters, threshold, timeout, cache,
                        clock));
    }

    /** Tasks in the fallback collection, from the readiness check's (cached) answer; empty while MongoDB does not answer. */
    public static OptionalLong fallbackDepth(CamelContext context) {
        TaskFallbackCheck check = context.getRegistry().lookupByNameAndType(FALLBACK_CHECK, TaskFallbackCheck.class);
        return check == null ? OptionalLong.empty() : check.depth();
    }

    /** Tasks in the dead-letter collection, from the same check's (cached) answer; empty while MongoDB does not answer. */
    public static OptionalLong deadLetters(CamelContext context) {
        TaskFallbackCheck check = context.getRegistry().lookupByNameAndType(FALLBACK_CHECK, TaskFallbackCheck.class);
        return check == null ? OptionalLong.empty() : check.deadLetters();
    }

    private static Optional<String> value(PropertiesComponent properties, String key) {
        return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
    }

    private static long number(PropertiesComponent properties, String key, long least) {
        String text = PortalDefaults.setting(properties, key);
        long number;
        try {
            number = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(key + " must be a whole number, not '" + text + "'");
        }
        if (number < least) {
            throw new IllegalStateException(key + " must be at least " + least + ", not " + number);
        }
        return number;
    }
}
