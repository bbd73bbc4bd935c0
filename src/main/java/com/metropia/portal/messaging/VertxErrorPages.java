package com.metropia.portal.messaging;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * Errors the HTTP server answers before any route runs (an unknown path, a body over {@code camel.server.max-body-size},
 * a request during start-up or shutdown) as {@code application/problem+json}, like the routes' own errors, instead of
 * Vert.x's plain text or HTML, or Camel's bare status.
 */
final class VertxErrorPages {

    private VertxErrorPages() {
    }

    static void install(CamelContext context, ObjectMapper mapper) {
        for (VertxPlatformHttpRouter router : context.getRegistry().findByType(VertxPlatformHttpRouter.class)) {
            // after every route of the server: what reaches it matched none
            // before every route of the server: while starting (the server listens before the routes take requests)
            // and while shutting down (requests in flight finish), new requests are told to come back (Camel's own
            // answers there are an HTML 404 and a bare 503)
            String retryAfter = context.resolvePropertyPlaceholders("{{portal.http.retry-after-seconds:5}}");
            router.route().order(Integer.MIN_VALUE).handler(routing -> {
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
            router.route().last().handler(routing -> answer(routing, mapper, 404,
                    "No resource at " + routing.request().path() + ": the API takes POST /api/tasks and POST /api/events"));
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

    private static Map<String, Object> problem(int status, String detail) {
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "about:blank");
        problem.put("title", HttpProblems.title(status));
        problem.put("status", status);
        problem.put("detail", detail);
        return problem;
    }

    static void answer(RoutingContext routing, ObjectMapper mapper, int status, String detail) {
        if (routing.response().ended()) {
            return;
        }
        try {
            routing.response().setStatusCode(status)
                    .putHeader("Content-Type", HttpProblems.PROBLEM_JSON)
                    .end(mapper.writeValueAsString(problem(status, detail)));
        } catch (Exception e) {
            routing.response().setStatusCode(status).end();
        }
    }
}
