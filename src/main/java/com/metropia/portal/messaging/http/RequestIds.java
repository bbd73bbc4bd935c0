package com.metropia.portal.messaging.http;

import java.util.UUID;
import java.util.regex.Pattern;

import io.vertx.ext.web.RoutingContext;
import org.apache.camel.Exchange;

/**
 * The id that ties an answer to its log lines: the caller's {@code X-Request-Id} when it is short and made of safe
 * characters, else a new one. It goes back as {@code X-Request-Id} on every answer, is {@code requestId} in every
 * problem document and in the logging MDC of the route.
 */
public final class RequestIds {

    public static final String HEADER = "X-Request-Id";
    /** Key of the id in the logging MDC and in the routing context. */
    public static final String KEY = "requestId";
    /** The exchange property that keeps the id once a route has removed the headers (before a send to SQS). */
    public static final String PROPERTY = "portalRequestId";

    /** Nothing that could forge a log line, break a header or grow without bound. */
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private RequestIds() {
    }

    /** The caller's id if it is safe to repeat, else a new one. */
    public static String accept(String incoming) {
        return incoming != null && SAFE.matcher(incoming).matches() ? incoming : generate();
    }

    public static String generate() {
        return UUID.randomUUID().toString();
    }

    /**
     * The id of a request on the HTTP router, decided by the first handler that asks: it replaces the caller's header
     * (so the route sees only the accepted id) and is set on the response.
     */
    static String of(RoutingContext routing) {
        String id = routing.get(KEY);
        if (id == null) {
            id = accept(routing.request().getHeader(HEADER));
            routing.put(KEY, id);
            routing.request().headers().set(HEADER, id);
        }
        // set again after a reroute (a HEAD on health), which starts the answer afresh
        if (!routing.response().headers().contains(HEADER)) {
            routing.response().putHeader(HEADER, id);
        }
        return id;
    }

    /**
     * The id stored with what a call writes ({@code request_id}): the {@code X-Request-Id} header the HTTP router set,
     * or one a Java caller of {@code direct:task} / {@code direct:events} set (replaced by a new one when it is not
     * safe to repeat); null without the header, so that nothing ties a document to an id nobody was given.
     */
    public static String stored(Exchange exchange) {
        Object header = exchange.getMessage().getHeader(HEADER);
        return header == null ? null : accept(header.toString());
    }

    /** The id of an exchange that came over HTTP (the router set it), or a new one for any other caller. */
    public static String of(Exchange exchange) {
        String incoming = exchange.getMessage().getHeader(HEADER, String.class);
        if (incoming == null) {
            // the task route removes every header before its send to SQS; the id stays in the property
            incoming = exchange.getProperty(PROPERTY, String.class);
        }
        String id = accept(incoming);
        exchange.getMessage().setHeader(HEADER, id);
        exchange.setProperty(PROPERTY, id);
        return id;
    }
}
