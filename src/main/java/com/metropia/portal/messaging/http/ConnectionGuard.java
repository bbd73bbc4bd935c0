package com.metropia.portal.messaging.http;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The time limits of one connection, between Vert.x's encoder and its connection handler, where it sees whole requests
 * coming in and whole responses going out:
 * <ul>
 * <li>waiting for a request (none in progress, none being answered): closed after the idle timeout;</li>
 * <li>from the first byte of a request to the end of its headers: 408 and closed after the header timeout, even if a
 * byte arrives every second;</li>
 * <li>from the end of the headers to the end of the body: 408 and closed after the body timeout (just closed if the
 * request was answered already, as one without a key is).</li>
 * </ul>
 * While the service works on a request nothing is timed: the answer is the service's to give. Vert.x's own idle
 * timeout would close the connection in that time too.
 */
public final class ConnectionGuard extends ChannelDuplexHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGuard.class);

    private enum Reading { NOTHING, HEADERS, BODY }

    private final HttpEdgeSettings settings;
    private final ObjectMapper mapper;
    private Reading reading = Reading.NOTHING;
    private String requestId;
    private long received;
    private long answered;
    private boolean answerStarted;
    private boolean interim;
    private ScheduledFuture<?> timer;

    public ConnectionGuard(HttpEdgeSettings settings, ObjectMapper mapper) {
        this.settings = settings;
        this.mapper = mapper;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        waitForRequest(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event == FramingRequestDecoder.REQUEST_STARTED) {
            if (reading == Reading.NOTHING) {
                reading = Reading.HEADERS;
                answerStarted = false;
                arm(ctx, settings.headerTimeout().toMillis(), () -> timedOut(ctx, "headers", settings.headerTimeout()
                        .toSeconds()));
            }
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) throws Exception {
        if (message instanceof HttpRequest request) {
            reading = Reading.BODY;
            requestId = RequestIds.accept(request.headers().get(RequestIds.HEADER));
            arm(ctx, settings.bodyTimeout().toMillis(), () -> timedOut(ctx, "body", settings.bodyTimeout().toSeconds()));
        }
        if (message instanceof LastHttpContent) {
            reading = Reading.NOTHING;
            received++;
            cancel();
            waitForRequest(ctx);
        }
        super.channelRead(ctx, message);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) throws Exception {
        if (message instanceof HttpResponse response) {
            // a 100 Continue is not the answer: the body and the work on it are still to come
            interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            answerStarted |= !interim;
        }
        if (message instanceof LastHttpContent && interim) {
            interim = false;
        } else if (message instanceof LastHttpContent) {
            promise = promise.unvoid();
            promise.addListener(written -> {
                answered++;
                waitForRequest(ctx);
            });
        }
        super.write(ctx, message, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }

    /** Starts the idle timeout once nothing is being read or answered. */
    private void waitForRequest(ChannelHandlerContext ctx) {
        if (reading == Reading.NOTHING && answered >= received) {
            arm(ctx, settings.idleTimeout().toMillis(), () -> {
                LOG.debug("Connection from {} idle for {} s: closed", ctx.channel().remoteAddress(),
                        settings.idleTimeout().toSeconds());
                ctx.close();
            });
        } else if (reading == Reading.NOTHING) {
            cancel();
        }
    }

    private void timedOut(ChannelHandlerContext ctx, String part, long seconds) {
        String id = requestId != null && reading == Reading.BODY ? requestId : RequestIds.generate();
        LOG.warn("Request {} from {}: its {} did not arrive within {} s; connection closed", id,
                ctx.channel().remoteAddress(), part, seconds);
        if (answerStarted) {
            ctx.close();
        } else {
            answer(ctx, mapper, HttpResponseStatus.REQUEST_TIMEOUT, "The request did not arrive in time ("
                                                                   + seconds + " s for its " + part
                                                                   + "): nothing was done", id, null);
        }
    }

    private void arm(ChannelHandlerContext ctx, long millis, Runnable action) {
        cancel();
        timer = ctx.executor().schedule(action, millis, TimeUnit.MILLISECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** A problem document written below Vert.x (which knows nothing of it), after which the connection is closed. */
    static void answer(ChannelHandlerContext ctx, ObjectMapper mapper, HttpResponseStatus status, String detail,
            String requestId, String retryAfter) {
        byte[] body = VertxErrorPages.problemJson(mapper, status.code(), detail, requestId)
                .getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpProblems.PROBLEM_JSON)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(RequestIds.HEADER, requestId);
        if (retryAfter != null) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
