package com.metropia.portal.messaging.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

/**
 * Vert.x's request decoder with the framing rules of RFC 9112 §6.1 that it leaves out: a request whose body length is
 * ambiguous is refused instead of guessed, so that no bytes of it can be read as a second request.
 * <p>
 * Netty serves {@code Transfer-Encoding: chunked} with a {@code Content-Length} by dropping the length, and a
 * {@code Transfer-Encoding} whose last coding is not {@code chunked} by the length alone (or as an empty body): a proxy
 * in front that frames the same bytes the other way would smuggle a request past it. Here such a request fails to
 * decode: the server answers it 400 (501 for a coding it does not know) and closes the connection, and the decoder
 * reads nothing more from it.
 * <p>
 * A version other than HTTP/1.0 and 1.1 is refused the same way, with 505.
 * <p>
 * It also tells {@link ConnectionGuard} when the first byte of a request arrives, which starts the header timeout.
 */
public final class FramingRequestDecoder extends VertxHttpRequestDecoder {

    /** User event: the first bytes of a new request have arrived. */
    public static final Object REQUEST_STARTED = new Object() {
        @Override
        public String toString() {
            return "REQUEST_STARTED";
        }
    };

    private boolean inRequest;

    FramingRequestDecoder(HttpServerOptions options) {
        super(options);
    }

    /** The request's framing is ambiguous or not supported: answered with {@link #status()}, then the connection closes. */
    static final class FramingException extends IllegalArgumentException {

        private final int status;

        FramingException(int status, String message) {
            super(message);
            this.status = status;
        }

        int status() {
            return status;
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (!inRequest && in.isReadable()) {
            inRequest = true;
            ctx.fireUserEventTriggered(REQUEST_STARTED);
        }
        super.decode(ctx, in, out);
        for (Object decoded : out) {
            if (decoded instanceof LastHttpContent) {
                inRequest = false;
            }
        }
    }

    /** Called by Netty once the headers are read and before the body: the one place that sees them all, unchanged. */
    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage message) {
        checkFraming(message);
        return super.isContentAlwaysEmpty(message);
    }

    static void checkFraming(HttpMessage message) {
        HttpVersion version = message.protocolVersion();
        if (!version.equals(HttpVersion.HTTP_1_1) && !version.equals(HttpVersion.HTTP_1_0)) {
            // Vert.x would answer it with a bare 501 of its own
            throw new FramingException(505, "HTTP version " + version.majorVersion() + "." + version.minorVersion()
                                            + " is not supported: send HTTP/1.1");
        }
        HttpHeaders headers = message.headers();
        List<String> fields = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (fields.isEmpty()) {
            return;
        }
        if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            throw new FramingException(400, "The request has both Transfer-Encoding and Content-Length");
        }
        if (message.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            throw new FramingException(400, "An HTTP/1.0 request cannot have a Transfer-Encoding");
        }
        List<String> codings = new ArrayList<>();
        for (String field : fields) {
            for (String coding : field.split(",")) {
                if (!coding.isBlank()) {
                    codings.add(coding.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        if (codings.isEmpty() || !codings.get(codings.size() - 1).equals("chunked")) {
            throw new FramingException(400, "The last Transfer-Encoding of a request must be chunked");
        }
        if (codings.size() > 1) {
            throw new FramingException(codings.subList(0, codings.size() - 1).contains("chunked") ? 400 : 501,
                    "Transfer-Encoding other than chunked is not supported");
        }
    }
}
