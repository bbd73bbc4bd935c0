package com.metropia.portal.messaging.http;

import com.metropia.portal.messaging.config.PortalConfiguration;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.impl.VertxWrapper;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.SimpleEventNotifierSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection level of the HTTP server: framing, time limits, a connection limit and problem documents for the
 * requests Vert.x refuses itself.
 * <p>
 * camel-platform-http-vertx 4.17 builds its {@link HttpServerOptions} itself and offers no hook for them, but it takes
 * the Vert.x instance from the registry. The instance bound here is Vert.x's own {@link VertxWrapper} around a plain
 * one: every HTTP server it creates speaks HTTP/1.1 only (no cleartext HTTP/2 upgrade, so every connection goes
 * through the checks below) and gets, before it listens, a connection handler that puts {@link FramingRequestDecoder}
 * and {@link ConnectionGuard} in the connection's pipeline, and a handler for requests that fail to decode.
 */
public final class HttpEdge extends VertxWrapper {

    private static final Logger LOG = LoggerFactory.getLogger(HttpEdge.class);

    /** Names of Vert.x's handlers in an HTTP/1.x pipeline. */
    private static final String DECODER = "httpDecoder";
    private static final String VERTX_HANDLER = "handler";

    private final HttpEdgeSettings settings;
    private final ObjectMapper mapper;
    private final String retryAfter;
    private final AtomicInteger open = new AtomicInteger();

    private HttpEdge(VertxInternal delegate, HttpEdgeSettings settings, ObjectMapper mapper, String retryAfter) {
        super(delegate);
        this.settings = settings;
        this.mapper = mapper;
        this.retryAfter = retryAfter;
    }

    /**
     * Binds the Vert.x instance of the HTTP server unless the application has one of its own (then its server keeps
     * Vert.x's defaults, and a warning says so). Closed once the context has stopped, after the server.
     */
    public static void install(CamelContext context, ObjectMapper mapper) throws Exception {
        if (PortalConfiguration.optional(context.getPropertiesComponent(), "camel.server.enabled")
                .filter("false"::equalsIgnoreCase).isPresent()) {
            return;
        }
        if (!context.getRegistry().findByType(Vertx.class).isEmpty()) {
            LOG.warn("The application binds its own Vert.x instance: the HTTP server runs without the connection"
                     + " limits, time limits and framing checks of portal.http.*");
            return;
        }
        HttpEdgeSettings settings = HttpEdgeSettings.from(context.getPropertiesComponent());
        String retryAfter = context.resolvePropertyPlaceholders("{{portal.http.retry-after-seconds}}");
        // the options Camel would have created its own instance with
        VertxOptions options = context.getRegistry().findSingleByType(VertxOptions.class);
        HttpEdge vertx = new HttpEdge((VertxInternal) Vertx.vertx(options != null ? options : new VertxOptions()),
                settings, mapper, retryAfter);
        context.getRegistry().bind("portalVertx", Vertx.class, vertx);
        context.getManagementStrategy().addEventNotifier(new SimpleEventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                if (event instanceof CamelEvent.CamelContextStoppedEvent) {
                    vertx.close();
                }
            }
        });
    }

    @Override
    public HttpServer createHttpServer(HttpServerOptions options) {
        HttpServerOptions http1 = new HttpServerOptions(options).setHttp2ClearTextEnabled(false);
        HttpServer server = super.createHttpServer(http1);
        server.connectionHandler(connection -> guard(connection, http1));
        server.invalidRequestHandler(this::refuse);
        return server;
    }

    @Override
    public HttpServer createHttpServer() {
        return createHttpServer(new HttpServerOptions());
    }

    private void guard(HttpConnection connection, HttpServerOptions options) {
        if (!(connection instanceof Http1xServerConnection http1)) {
            return;
        }
        ChannelHandlerContext ctx = http1.channelHandlerContext();
        ChannelPipeline pipeline = ctx.pipeline();
        int connections = open.incrementAndGet();
        ctx.channel().closeFuture().addListener(closed -> open.decrementAndGet());
        // nothing has been read yet: the decoder can still be swapped
        pipeline.replace(DECODER, DECODER, new FramingRequestDecoder(options));
        pipeline.addBefore(VERTX_HANDLER, "portalConnectionGuard", new ConnectionGuard(settings, mapper));
        if (connections > settings.maxConnections()) {
            String id = RequestIds.generate();
            LOG.warn("Request {} from {}: {} connections open, more than portal.http.max-connections ({}); answered"
                     + " 503 and closed", id, ctx.channel().remoteAddress(), connections, settings.maxConnections());
            ChannelHandlerContext guard = pipeline.context(ConnectionGuard.class);
            guard.channel().config().setAutoRead(false);
            // the answer goes out through the guard's context: Vert.x has no request to answer
            writeServiceUnavailable(guard, id);
        }
    }

    private void writeServiceUnavailable(ChannelHandlerContext guard, String id) {
        ConnectionGuard.answer(guard, mapper, HttpResponseStatus.SERVICE_UNAVAILABLE,
                "Too many connections: nothing was done; retry", id, retryAfter);
    }

    /**
     * A request that could not be decoded: a framing this server refuses, a request line or headers over Vert.x's
     * limits, or bytes that are not HTTP. Answered like every other error, and the connection closed, since nothing
     * after such a request can be trusted to start a new one.
     */
    private void refuse(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        String id = RequestIds.accept(request.headers().get(RequestIds.HEADER));
        int status;
        String detail;
        if (cause instanceof FramingRequestDecoder.FramingException framing) {
            status = framing.status();
            detail = framing.getMessage() + ": refused, and the connection is closed. Nothing was done";
        } else if (cause instanceof TooLongFrameException && cause.getMessage() != null
                   && cause.getMessage().startsWith("An HTTP line is larger than")) {
            status = 414;
            detail = "The request line is longer than the server takes. Nothing was done";
        } else if (cause instanceof TooLongFrameException) {
            status = 431;
            detail = "The request headers are larger than the server takes. Nothing was done";
        } else {
            status = 400;
            detail = "The request is not valid HTTP/1.1. Nothing was done";
        }
        LOG.warn("Request {} from {}: answered {}: {}", id, request.remoteAddress(), status,
                cause == null ? "invalid request" : cause instanceof FramingRequestDecoder.FramingException
                        ? cause.getMessage() : printable(cause.toString()));
        request.response()
                .setStatusCode(status)
                .putHeader("Content-Type", HttpProblems.PROBLEM_JSON)
                .putHeader("Connection", "close")
                .putHeader(RequestIds.HEADER, id)
                .end(VertxErrorPages.problemJson(mapper, status, detail, id))
                .onComplete(done -> request.connection().close());
    }

    /** Netty's message can quote the caller's bytes: no control character reaches the log, nor more than 300 of them. */
    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(300).forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return text.length() > 300 ? out.append("...").toString() : out.toString();
    }
}
