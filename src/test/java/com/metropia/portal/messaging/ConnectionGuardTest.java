package com.metropia.portal.messaging;

import com.metropia.portal.messaging.http.ConnectionGuard;
import com.metropia.portal.messaging.http.FramingRequestDecoder;
import com.metropia.portal.messaging.http.HttpEdgeSettings;
import com.metropia.portal.messaging.support.PortalJson;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The connection's clock, step by step, on Netty's embedded channel (its time only moves when told to): which phase of
 * a connection is timed, and what it gets when its time is up.
 */
class ConnectionGuardTest {

    private static final HttpEdgeSettings SETTINGS = new HttpEdgeSettings(Duration.ofSeconds(60),
            Duration.ofSeconds(10), Duration.ofSeconds(30), 100);

    private final EmbeddedChannel channel = new EmbeddedChannel();

    ConnectionGuardTest() {
        channel.freezeTime();
        channel.pipeline().addLast(new ConnectionGuard(SETTINGS, PortalJson.newObjectMapper()));
    }

    @Test
    void should_close_a_connection_that_sends_nothing_after_the_idle_timeout() {
        advance(59);
        assertThat(channel.isOpen()).isTrue();

        advance(2);

        assertThat(channel.isOpen()).isFalse();
        assertThat((Object) channel.readOutbound()).as("closed without an answer").isNull();
    }

    @Test
    void should_answer_408_when_the_headers_are_not_complete_in_time_though_bytes_keep_coming() {
        channel.pipeline().fireUserEventTriggered(FramingRequestDecoder.REQUEST_STARTED);
        for (int second = 0; second < 9; second++) {
            // the decoder keeps receiving bytes of the same headers: no new start, no reset
            channel.pipeline().fireUserEventTriggered(FramingRequestDecoder.REQUEST_STARTED);
            advance(1);
        }
        assertThat(channel.isOpen()).isTrue();

        advance(2);

        FullHttpResponse answer = channel.readOutbound();
        assertThat(answer.status()).isEqualTo(HttpResponseStatus.REQUEST_TIMEOUT);
        assertThat(answer.headers().get("Connection")).isEqualTo("close");
        assertThat(answer.headers().get("X-Request-Id")).isNotBlank();
        assertThat(channel.isOpen()).isFalse();
        answer.release();
    }

    @Test
    void should_not_time_a_request_the_service_is_working_on() {
        receiveWholeRequest();

        advance(600);

        assertThat(channel.isOpen()).isTrue();
        answer(HttpResponseStatus.ACCEPTED);
        advance(61);
        assertThat(channel.isOpen()).as("idle after the answer").isFalse();
    }

    @Test
    void should_not_take_a_100_continue_for_the_answer() {
        channel.pipeline().fireUserEventTriggered(FramingRequestDecoder.REQUEST_STARTED);
        channel.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/events"));
        answer(HttpResponseStatus.CONTINUE);
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);

        advance(600);

        assertThat(channel.isOpen()).as("still working on the request").isTrue();
    }

    @Test
    void should_answer_408_for_a_body_that_stops_coming() {
        channel.pipeline().fireUserEventTriggered(FramingRequestDecoder.REQUEST_STARTED);
        DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/events");
        request.headers().set("X-Request-Id", "slow-body-1");
        channel.writeInbound(request);
        advance(29);
        assertThat(channel.isOpen()).isTrue();

        advance(2);

        FullHttpResponse answer = channel.readOutbound();
        assertThat(answer.status()).isEqualTo(HttpResponseStatus.REQUEST_TIMEOUT);
        assertThat(answer.headers().get("X-Request-Id")).isEqualTo("slow-body-1");
        assertThat(channel.isOpen()).isFalse();
        answer.release();
    }

    @Test
    void should_close_without_a_second_answer_when_a_request_answered_early_never_sends_its_body() {
        channel.pipeline().fireUserEventTriggered(FramingRequestDecoder.REQUEST_STARTED);
        channel.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/events"));
        answer(HttpResponseStatus.UNAUTHORIZED);
        assertThat(((FullHttpResponse) channel.readOutbound()).release()).isTrue();

        advance(31);

        assertThat((Object) channel.readOutbound()).isNull();
        assertThat(channel.isOpen()).isFalse();
    }

    private void receiveWholeRequest() {
        channel.pipeline().fireUserEventTriggered(FramingRequestDecoder.REQUEST_STARTED);
        channel.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/tasks"));
        channel.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
        channel.inboundMessages().clear();
    }

    private void answer(HttpResponseStatus status) {
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status));
    }

    private void advance(long seconds) {
        channel.advanceTimeBy(seconds, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
    }
}
