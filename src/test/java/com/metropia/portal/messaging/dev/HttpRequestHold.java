package com.metropia.portal.messaging.dev;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * Holds the requests that reach the HTTP server while routes are swapped, and lets them through once the new routes
 * run. A request's exchange may be anywhere between the HTTP server and a {@code direct:} consumer: stopping a route
 * under it fails it, and Camel 4.17's direct producer, while one caller waits for a consumer, hands the others the
 * consumer it had cached, that is the route being removed. So the routes are swapped only while no request is between
 * the server and its answer, and the requests that arrive meanwhile wait for the swap instead of failing.
 */
final class HttpRequestHold {

    private final CamelContext context;
    private final Object lock = new Object();
    private final List<Runnable> held = new ArrayList<>();
    /** The responses of the requests let through, until they are seen ended (not the requests: they hold the body). */
    private final Set<HttpServerResponse> passed = ConcurrentHashMap.newKeySet();
    private boolean installed;
    private boolean holding;

    HttpRequestHold(CamelContext context) {
        this.context = context;
    }

    /** From now on new requests wait; returns once the requests already let through have their answer, or at the deadline. */
    boolean hold(long deadlineNanos) throws InterruptedException {
        install();
        synchronized (lock) {
            holding = true;
        }
        // polled: a response has one end handler, which the HTTP consumer sets for itself
        passed.removeIf(HttpRequestHold::answered);
        while (!passed.isEmpty()) {
            if (System.nanoTime() > deadlineNanos) {
                return false;
            }
            Thread.sleep(5);
            passed.removeIf(HttpRequestHold::answered);
        }
        return true;
    }

    private static boolean answered(HttpServerResponse response) {
        return response.ended() || response.closed();
    }

    /** Lets the held requests through, to the routes running now. */
    void release() {
        List<Runnable> waiting;
        synchronized (lock) {
            holding = false;
            waiting = List.copyOf(held);
            held.clear();
        }
        waiting.forEach(Runnable::run);
    }

    /**
     * Ahead of every route of the server, once, as soon as the server is up: a request it did not see go by could be
     * on its way to a route when a reload starts. Until the server's router is there, nothing is installed and a later
     * call tries again.
     */
    void install() {
        synchronized (lock) {
            if (installed) {
                return;
            }
            Set<VertxPlatformHttpRouter> routers = context.getRegistry().findByType(VertxPlatformHttpRouter.class);
            for (VertxPlatformHttpRouter router : routers) {
                router.route().order(Integer.MIN_VALUE).handler(this::handle);
            }
            installed = !routers.isEmpty();
        }
    }

    private void handle(RoutingContext routing) {
        synchronized (lock) {
            if (holding) {
                // the body stays unread until a route's body handler takes it
                routing.request().pause();
                Context vertxContext = Vertx.currentContext();
                // rerouted, the request meets the server's routes as they are then, the new ones included
                held.add(() -> vertxContext.runOnContext(
                        nothing -> routing.reroute(routing.request().method(), routing.request().uri())));
                return;
            }
            passed.add(routing.response());
        }
        if (passed.size() > 64) {
            passed.removeIf(HttpRequestHold::answered);
        }
        routing.next();
    }
}
