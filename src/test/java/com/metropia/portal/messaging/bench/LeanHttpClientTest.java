package com.metropia.portal.messaging.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The benchmark's load client against a Vert.x server: the request arrives whole with its headers, answers with a
 * length, chunked and with {@code Connection: close} are read whole, and a connection is kept and used again unless
 * the server closes it.
 */
class LeanHttpClientTest {

    private Vertx vertx;
    private HttpServer server;
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startServer() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
            seen.add(request.method() + " " + request.path() + " " + request.getHeader("X-API-Key") + " "
                     + request.connection().remoteAddress().port() + " " + body.toString(StandardCharsets.UTF_8));
            switch (request.path()) {
                case "/chunked" -> request.response().setChunked(true).setStatusCode(202)
                        .write("{\"part\":1,").compose(v -> request.response().end("\"part2\":2}"));
                case "/close" -> request.response().putHeader("Connection", "close").setStatusCode(503)
                        .end("{\"title\":\"unavailable\"}");
                default -> request.response().setStatusCode(201).end("{\"echo\":" + body + "}");
            }
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopServer() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void should_send_whole_requests_read_every_framing_and_keep_connections_the_server_keeps() throws Exception {
        byte[] body = "{\"action\":\"a\",\"data\":{\"é\":1}}".getBytes(StandardCharsets.UTF_8);
        try (LeanHttpClient client = new LeanHttpClient(Duration.ofSeconds(5))) {
            LeanHttpClient.Answer first = client.post(uri("/tasks"), Map.of("X-API-Key", "k1"), body);
            LeanHttpClient.Answer chunked = client.post(uri("/chunked"), Map.of("X-API-Key", "k2"), body);
            LeanHttpClient.Answer closing = client.post(uri("/close"), Map.of("X-API-Key", "k3"), body);
            LeanHttpClient.Answer after = client.post(uri("/tasks"), Map.of("X-API-Key", "k4"), body);

            assertThat(first.status()).isEqualTo(201);
            assertThat(first.body()).isEqualTo("{\"echo\":{\"action\":\"a\",\"data\":{\"é\":1}}}");
            assertThat(chunked.status()).isEqualTo(202);
            assertThat(chunked.body()).isEqualTo("{\"part\":1,\"part2\":2}");
            assertThat(closing.status()).isEqualTo(503);
            assertThat(closing.body()).isEqualTo("{\"title\":\"unavailable\"}");
            assertThat(after.status()).isEqualTo(201);
        }
        assertThat(seen).hasSize(4);
        assertThat(seen).allSatisfy(line -> assertThat(line).startsWith("POST /").endsWith(" {\"action\":\"a\",\"data\":{\"é\":1}}"));
        assertThat(seen.get(0)).contains(" k1 ");
        assertThat(seen.get(3)).contains(" k4 ");
        // the first three on one connection; the server closed it after the third, so the fourth came on a new one
        List<String> ports = seen.stream().map(line -> line.split(" ")[3]).toList();
        assertThat(ports.get(1)).isEqualTo(ports.get(0));
        assertThat(ports.get(2)).isEqualTo(ports.get(0));
        assertThat(ports.get(3)).isNotEqualTo(ports.get(0));
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.actualPort() + path);
    }
}
