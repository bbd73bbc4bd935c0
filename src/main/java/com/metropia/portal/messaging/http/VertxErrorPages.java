package com.metropia.portal.messaging.http;

import com.metropia.portal.messaging.config.PortalConfiguration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.metrics.PortalMetrics;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Errors the HTTP server answers before any route runs (an unknown path, a body over {@code camel.server.max-body-size},
 * a request during start-up or shutdown) as {@code application/problem+json}, like the routes' own errors, instead of
 * Vert.x's plain text or HTML, or Camel's bare status. Every request gets its {@link RequestIds request id} here first.
 */
public final class VertxErrorPages {

    private static final Logger LOG = LoggerFactory.getLogger(VertxErrorPages.class);
    /** Routing-context key of the counter of the answers made here ({@link #answer}), when there are metrics. */
    private static final String REFUSED_COUNTER = "portalRefusedCounter";

    private VertxErrorPages() {
    }

    public static void install(CamelContext context, ObjectMapper mapper) {
        String healthPath = PortalConfiguration.optional(context.getPropertiesComponent(),
                "camel.management.health-path").orElse("/observe/health");
        for (VertxPlatformHttpRouter router : context.getRegistry().findByType(VertxPlatformHttpRouter.class)) {
            // after every route of the server: what reaches it matched none
            // before every route of the server: while starting (the server listens before the routes take requests)
            // and while shutting down (requests in flight finish), new requests are told to come back (Camel's own
            // answers there are an HTML 404 and a bare 503)
            String retryAfter = context.resolvePropertyPlaceholders("{{portal.http.retry-after-seconds}}");
            IntConsumer refused = context.getRegistry().lookupByNameAndType(PortalMetrics.REFUSED_HOOK,
                    IntConsumer.class);
            router.route().order(Integer.MIN_VALUE).handler(routing -> {
                RequestIds.of(routing);
                if (refused != null) {
                    // handed along with the request so that every answer made before a route (the API key check's
                    // among them) is counted by status
                    routing.put(REFUSED_COUNTER, refused);
                }
                if (context.isStopping()) {
                    routing.response().putHeader("Retry-After", retryAfter);
                    answer(routing, mapper, 503, "The service is shutting down: nothing was done; retry");
                } else if (!context.isStarted()) {
                    routing.response().putHeader("Retry-After", retryAfter);
                    answer(routing, mapper, 503, "The service is starting: nothing was done; retry");
                } else {
                    routing.next();
                }
            });
            // Probes that ask with HEAD get the status of GET without its body; the health routes only take GET.
            router.route().order(Integer.MIN_VALUE + 2).method(HttpMethod.HEAD).handler(routing -> {
                String path = routing.normalizedPath();
                if (path.equals(healthPath) || path.startsWith(healthPath + "/")) {
                    routing.reroute(HttpMethod.GET, routing.request().uri());
                } else {
                    routing.next();
                }
            });
            router.route().last().handler(routing -> {
                LOG.info("Request {}: 404 for {} {}", RequestIds.of(routing), routing.request().method(),
                        printable(routing.request().path()));
                answer(routing, mapper, 404,
                        "No resource at this path: the API takes POST /api/tasks and POST /api/events");
            });
            // the body handler of a route fails the request with 413; the server's own answer would be plain text
            router.route().failureHandler(routing -> {
                if (routing.statusCode() == 413) {
                    answer(routing, mapper, 413, "The body is larger than the server takes (camel.server.max-body-size)");
                } else {
                    routing.next();
                }
            });
        }
    }

    static String problemJson(ObjectMapper mapper, int status, String detail, String requestId) {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "about:blank");
        problem.put("title", HttpProblems.title(status));
        problem.put("status", status);
        problem.put("detail", detail);
        problem.put(RequestIds.KEY, requestId);
        try {
            return mapper.writeValueAsString(problem);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void answer(RoutingContext routing, ObjectMapper mapper, int status, String detail) {
        if (routing.response().ended()) {
            return;
        }
        String id = RequestIds.of(routing);
        IntConsumer refused = routing.get(REFUSED_COUNTER);
        if (refused != null) {
            refused.accept(status);
        }
        routing.response().setStatusCode(status)
                .putHeader(RequestIds.HEADER, id)
                .putHeader("Content-Type", HttpProblems.PROBLEM_JSON)
                .end(problemJson(mapper, status, detail, id));
    }

    /** A path is the caller's text: no control character reaches the log, nor more than 200 of them. */
    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(200).forEach(c -> out.append(Character.isISOControl(c)
                ? String.format("\\u%04x", c) : Character.toString(c)));
        return text.length() > 200 ? out.append("...").toString() : out.toString();
    }
}
