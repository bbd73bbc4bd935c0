package com.metropia.portal.messaging.support;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

import com.mongodb.client.MongoClient;
import org.apache.camel.CamelContext;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The SQS and MongoDB clients the routes' endpoints use, for the beans that call the clients themselves: the only one
 * of its type in the registry (a host application's own), else the one the portal bound. Found once per Camel context:
 * the registry's lookup by type goes through every bean, and the paths of tasks and of Idempotency-Keys asked for a
 * client on every request.
 */
public final class RegistryClients {

    private static final Map<CamelContext, Map<Class<?>, Object>> FOUND = Collections.synchronizedMap(new WeakHashMap<>());

    private RegistryClients() {
    }

    public static SqsClient sqs(CamelContext context) {
        return find(context, SqsClient.class, "portalSqsClient");
    }

    public static MongoClient mongo(CamelContext context) {
        return find(context, MongoClient.class, "portalMongoClient");
    }

    private static <T> T find(CamelContext context, Class<T> type, String portalName) {
        Map<Class<?>, Object> found = FOUND.computeIfAbsent(context, c -> new ConcurrentHashMap<>());
        Object known = found.get(type);
        if (known != null) {
            return type.cast(known);
        }
        T single = context.getRegistry().findSingleByType(type);
        T client = single != null ? single : context.getRegistry().lookupByNameAndType(portalName, type);
        if (client != null) {
            found.put(type, client);
        }
        return client;
    }
}
