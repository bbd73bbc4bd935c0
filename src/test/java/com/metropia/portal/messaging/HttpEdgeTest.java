package com.metropia.portal.messaging;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The HTTP edge against a hostile caller on raw sockets: ambiguous framing is refused and the connection closed (no
 * smuggled request runs), connections that trickle or idle are cut, connections beyond the limit are refused, and
 * every answer carries a request id.
 */
class HttpEdgeTest extends PortalTestSupport {

    private static final String TASK = "{\"action\":\"edge\",\"data\":{\"n\":1}}";
    private static final int MAX_CONNECTIONS = 12;

    @Override
    protected Map<String, String> extraProperties() {
        return Map.of("portal.http.header-timeout-seconds", "1",
                "portal.http.body-timeout-seconds", "2",
                "portal.http.idle-timeout-seconds", "3",
                "portal.http.max-connections", String.valueOf(MAX_CONNECTIONS));
    }

    @Test
    void should_refuse_chunked_with_a_content_length_close_the_connection_and_not_run_the_smuggled_request()
            throws Exception {
        String smuggled = rawPost("/api/tasks", "Content-Length: " + TASK.length() + "\r\n", TASK);
        String chunked = Integer.toHexString(TASK.length()) + "\r\n" + TASK + "\r\n0\r\n\r\n";
        String request = rawPost("/api/tasks", "Content-Length: " + chunked.length() + "\r\nTransfer-Encoding: chunked\r\n",
                chunked) + smuggled;

        Answer answer = exchange(request);

        assertThat(answer.statusLine).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(problem(answer).get("detail").asText()).contains("Transfer-Encoding and Content-Length");
        assertThat(answer.header("Connection")).isEqualTo("close");
        assertThat(answer.closed).as("connection closed after the answer").isTrue();
        assertThat(answer.responses).as("one answer only: " + answer.raw).isEqualTo(1);
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_refuse_a_transfer_encoding_that_does_not_end_in_chunked_and_queue_nothing() throws Exception {
        for (String coding : new String[] {"xchunked", "chunked, gzip", "identity"}) {
            Answer withLength = exchange(rawPost("/api/tasks",
                    "Transfer-Encoding: " + coding + "\r\nContent-Length: " + TASK.length() + "\r\n", TASK));
            Answer withoutLength = exchange(rawPost("/api/tasks", "Transfer-Encoding: " + coding + "\r\n", "")
                                              + rawPost("/api/tasks", "Content-Length: " + TASK.length() + "\r\n", TASK));

            for (Answer answer : List.of(withLength, withoutLength)) {
                assertThat(answer.statusLine).as(coding + ": " + answer.raw).isEqualTo("HTTP/1.1 400 Bad Request");
                assertThat(answer.closed).isTrue();
                assertThat(answer.responses).isEqualTo(1);
            }
        }
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_refuse_a_transfer_encoding_in_an_http_1_0_request() throws Exception {
        String chunked = Integer.toHexString(TASK.length()) + "\r\n" + TASK + "\r\n0\r\n\r\n";

        Answer answer = exchange(rawPost("/api/tasks", "Transfer-Encoding: chunked\r\n", chunked)
                .replaceFirst("HTTP/1.1", "HTTP/1.0"));

        assertThat(answer.status()).as(answer.raw).isEqualTo(400);
        assertThat(answer.closed).isTrue();
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_answer_501_for_a_transfer_coding_it_does_not_decode() throws Exception {
        String chunked = Integer.toHexString(TASK.length()) + "\r\n" + TASK + "\r\n0\r\n\r\n";

        Answer answer = exchange(rawPost("/api/tasks", "Transfer-Encoding: gzip, chunked\r\n", chunked));

        assertThat(answer.statusLine).isEqualTo("HTTP/1.1 501 Not Implemented");
        assertThat(answer.closed).isTrue();
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_still_queue_a_plain_chunked_task() throws Exception {
        String chunked = Integer.toHexString(TASK.length()) + "\r\n" + TASK + "\r\n0\r\n\r\n";

        Answer answer = exchange(rawPost("/api/tasks", "Transfer-Encoding: chunked\r\nConnection: close\r\n", chunked));

        assertThat(answer.statusLine).as(answer.raw).isEqualTo("HTTP/1.1 202 Accepted");
        assertThat(receiveAll(1)).singleElement().satisfies(message -> assertThat(message.body()).isEqualTo(TASK));
    }

    @Test
    void should_cut_a_slowloris_that_trickles_its_headers_although_it_is_never_idle() throws Exception {
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            byte[] headers = ("POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + PortalService.API_KEY
                              + "\r\nX-Padding: " + "a".repeat(100) + "\r\n").getBytes(US_ASCII);
            long started = System.nanoTime();
            // one byte every 200 ms (the wait for an answer between two bytes), well within the idle timeout (3 s),
            // for at most 8 s
            socket.setSoTimeout(200);
            int first = -1;
            for (int i = 0; i < 40 && first == -1; i++) {
                try {
                    out.write(headers[i]);
                    out.flush();
                    first = socket.getInputStream().read();
                    if (first == -1) {
                        break;
                    }
                } catch (SocketTimeoutException noAnswerYet) {
                    // next byte
                } catch (IOException closed) {
                    break;
                }
            }
            socket.setSoTimeout(8000);
            Answer rest = read(socket);
            Answer answer = new Answer((first == -1 ? "" : String.valueOf((char) first)) + rest.raw, rest.closed);

            assertThat(answer.statusLine).isEqualTo("HTTP/1.1 408 Request Timeout");
            assertThat(problem(answer).get("detail").asText()).contains("headers");
            assertThat(answer.header("Connection")).isEqualTo("close");
            assertThat(answer.closed).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        }
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_cut_a_body_that_does_not_arrive_in_time_and_store_nothing() throws Exception {
        String events = events(3, "slow-body");
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: "
                       + PortalService.API_KEY + "\r\nContent-Length: " + events.length() + "\r\n\r\n"
                       + events.substring(0, 20)).getBytes(US_ASCII));
            out.flush();

            Answer answer = read(socket);

            assertThat(answer.statusLine).isEqualTo("HTTP/1.1 408 Request Timeout");
            assertThat(problem(answer).get("detail").asText()).contains("body");
            assertThat(answer.closed).isTrue();
        }
        assertThat(sendEvent().countDocuments()).isZero();
    }

    @Test
    void should_close_an_idle_connection_and_one_kept_alive_after_its_answer() throws Exception {
        try (Socket idle = connect(); Socket keptAlive = connect()) {
            keptAlive.getOutputStream().write(("GET /observe/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(US_ASCII));
            long started = System.nanoTime();

            Answer nothing = read(idle);
            Answer health = read(keptAlive);

            assertThat(nothing.raw).isEmpty();
            assertThat(nothing.closed).isTrue();
            assertThat(health.statusLine).isEqualTo("HTTP/1.1 200 OK");
            assertThat(health.closed).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(2500),
                    Duration.ofSeconds(6));
        }
    }

    @Test
    void should_refuse_connections_beyond_the_limit_and_take_new_ones_once_they_close() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS + 3; i++) {
                sockets.add(connect());
            }
            List<Answer> refused = new ArrayList<>();
            for (Socket socket : sockets) {
                socket.setSoTimeout(300);
                Answer answer = read(socket);
                if (answer.statusLine != null) {
                    refused.add(answer);
                }
            }

            // the test's own HTTP client may hold a connection or two
            assertThat(refused).hasSizeBetween(3, 5).allSatisfy(answer -> {
                assertThat(answer.statusLine).isEqualTo("HTTP/1.1 503 Service Unavailable");
                assertThat(answer.header("Retry-After")).isEqualTo("5");
                assertThat(problem(answer).get("requestId").asText()).isEqualTo(answer.header("X-Request-Id"));
                assertThat(answer.closed).isTrue();
            });
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(send(service.jsonPost("/api/tasks", TASK)).statusCode()).isEqualTo(202));
    }

    @Test
    void should_answer_protocol_errors_with_a_problem_and_a_request_id() throws Exception {
        Answer badLine = exchange("GARBAGE\r\n\r\n");
        Answer hugeHeaders = exchange("GET /observe/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                                        + "a".repeat(20_000) + "\r\n\r\n");

        Answer longLine = exchange("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        Answer otherVersion = exchange("GET /observe/health HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n");

        assertThat(badLine.status()).as(badLine.raw).isEqualTo(400);
        assertThat(hugeHeaders.status()).as(hugeHeaders.raw).isEqualTo(431);
        assertThat(longLine.status()).as(longLine.raw).isEqualTo(414);
        assertThat(otherVersion.status()).as(otherVersion.raw).isEqualTo(505);
        for (Answer answer : List.of(badLine, hugeHeaders, longLine, otherVersion)) {
            assertThat(problem(answer).get("requestId").asText()).isEqualTo(answer.header("X-Request-Id"));
            assertThat(answer.closed).isTrue();
        }
    }

    @Test
    void should_repeat_a_safe_request_id_and_replace_an_unsafe_one_on_every_answer() throws Exception {
        HttpResponse<String> accepted = send(service.jsonPost("/api/tasks", TASK).header("X-Request-Id", "abc-123:x.y_z"));
        HttpResponse<String> unsafe = send(service.jsonPost("/api/tasks", "{}").header("X-Request-Id", "a b"));
        HttpResponse<String> tooLong = send(service.jsonPost("/api/tasks", "{}").header("X-Request-Id", "a".repeat(129)));
        HttpResponse<String> unauthorized = send(HttpRequest.newBuilder(service.uri("/api/tasks"))
                .header("X-Request-Id", "no-key-1").POST(HttpRequest.BodyPublishers.ofString(TASK)));
        HttpResponse<String> notFound = send(service.request("/nowhere").header("X-Request-Id", "lost-1").GET());

        assertThat(accepted.statusCode()).isEqualTo(202);
        assertThat(accepted.headers().firstValue("X-Request-Id")).hasValue("abc-123:x.y_z");
        for (HttpResponse<String> replaced : List.of(unsafe, tooLong)) {
            assertThat(replaced.statusCode()).isEqualTo(400);
            String id = replaced.headers().firstValue("X-Request-Id").orElseThrow();
            assertThat(id).matches("[0-9a-f-]{36}");
            assertThat(json(replaced).get("requestId").asText()).isEqualTo(id);
        }
        assertThat(unauthorized.statusCode()).isEqualTo(401);
        assertThat(unauthorized.headers().firstValue("X-Request-Id")).hasValue("no-key-1");
        assertThat(json(unauthorized).get("requestId").asText()).isEqualTo("no-key-1");
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(notFound.headers().firstValue("X-Request-Id")).hasValue("lost-1");
        assertThat(json(notFound).get("requestId").asText()).isEqualTo("lost-1");
        assertThat(json(notFound).get("detail").asText()).doesNotContain("/nowhere");
    }

    @Test
    void should_refuse_a_content_encoding_and_a_charset_it_does_not_read_and_queue_nothing() throws Exception {
        HttpResponse<String> gzip = send(service.jsonPost("/api/tasks", TASK).header("Content-Encoding", "gzip"));
        HttpResponse<String> utf16 = send(service.request("/api/tasks")
                .header("Content-Type", "application/json; charset=UTF-16")
                .POST(HttpRequest.BodyPublishers.ofByteArray(TASK.getBytes(java.nio.charset.StandardCharsets.UTF_16))));

        assertThat(gzip.statusCode()).as(gzip.body()).isEqualTo(415);
        assertThat(json(gzip).get("detail").asText()).contains("Content-Encoding 'gzip'");
        assertThat(utf16.statusCode()).as(utf16.body()).isEqualTo(415);
        assertThat(json(utf16).get("detail").asText()).contains("charset 'UTF-16'");
        assertThat(receiveAll(1, Duration.ofSeconds(1))).isEmpty();
    }

    @Test
    void should_take_utf_8_named_as_the_charset_and_identity_as_the_content_encoding() throws Exception {
        HttpResponse<String> response = send(service.request("/api/tasks")
                .header("Content-Type", "application/json; charset=\"utf-8\"")
                .header("Content-Encoding", "identity")
                .POST(HttpRequest.BodyPublishers.ofString(TASK)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        assertThat(receiveAll(1)).singleElement().satisfies(message -> assertThat(message.body()).isEqualTo(TASK));
    }

    @Test
    void should_answer_head_on_health_and_its_sub_paths_with_200() throws Exception {
        for (String path : new String[] {"/observe/health", "/observe/health/live", "/observe/health/ready"}) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(service.uri(path))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()));

            assertThat(response.statusCode()).as(path).isEqualTo(200);
            assertThat(response.body()).isEmpty();
            assertThat(response.headers().firstValue("X-Request-Id")).as(path).isPresent();
        }
    }

    @Test
    void should_put_the_request_id_in_the_mdc_of_the_route_log_lines() throws Exception {
        List<String> requestIds = new java.util.concurrent.CopyOnWriteArrayList<>();
        LoggerContext logging = (LoggerContext) LogManager.getContext(false);
        LoggerConfig events = new LoggerConfig("portal.events", Level.INFO, false);
        AbstractAppender appender = new AbstractAppender("mdc-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                requestIds.add(String.valueOf(event.getContextData().<Object>getValue("requestId")));
            }
        };
        appender.start();
        events.addAppender(appender, Level.INFO, null);
        logging.getConfiguration().addLogger("portal.events", events);
        logging.updateLoggers();
        try {
            HttpResponse<String> response = send(service.jsonPost("/api/events", events(3, "mdc"))
                    .header("X-Request-Id", "mdc-check-1"));

            assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
            assertThat(requestIds).hasSize(3).containsOnly("mdc-check-1");
        } finally {
            logging.getConfiguration().removeLogger("portal.events");
            logging.updateLoggers();
            appender.stop();
        }
    }

    // --- raw HTTP/1.1 ---

    private static String rawPost(String path, String headers, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: "
               + PortalService.API_KEY + "\r\n" + headers + "\r\n" + body;
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket("127.0.0.1", service.uri("/").getPort());
        socket.setSoTimeout(8000);
        return socket;
    }

    /** What came back on a new connection for the bytes sent, until the server closed it or went quiet. */
    private Answer exchange(String request) throws IOException {
        try (Socket socket = connect()) {
            socket.getOutputStream().write(request.getBytes(UTF_8));
            socket.getOutputStream().flush();
            return read(socket);
        }
    }

    /** Reads until the server closes the connection, or nothing arrives for the socket's timeout. */
    private static Answer read(Socket socket) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        boolean closed = false;
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) {
                received.write(buffer, 0, n);
            }
            closed = true;
        } catch (SocketTimeoutException quiet) {
            // the connection stays open
        } catch (IOException reset) {
            closed = true;
        }
        return new Answer(received.toString(UTF_8), closed);
    }

    private static JsonNode problem(Answer answer) throws IOException {
        assertThat(answer.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(answer.header("X-Request-Id")).isNotBlank();
        return JSON.readTree(answer.body);
    }

    private static final class Answer {
        final String raw;
        final String statusLine;
        final String body;
        final boolean closed;
        final int responses;

        Answer(String raw, boolean closed) {
            this.raw = raw;
            this.closed = closed;
            this.statusLine = raw.isEmpty() ? null : raw.substring(0, raw.indexOf("\r\n"));
            int bodyStart = raw.indexOf("\r\n\r\n");
            this.body = bodyStart < 0 ? "" : raw.substring(bodyStart + 4);
            this.responses = raw.split("HTTP/1\\.[01] \\d{3} ", -1).length - 1;
        }

        /** The status code, whatever HTTP version the server answered with. */
        int status() {
            return statusLine == null ? 0 : Integer.parseInt(statusLine.split(" ")[1]);
        }

        /** The first header of that name (in any case), or null. */
        String header(String name) {
            for (String line : raw.substring(0, Math.max(0, raw.indexOf("\r\n\r\n"))).split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }
}
