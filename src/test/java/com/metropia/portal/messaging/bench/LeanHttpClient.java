package com.metropia.portal.messaging.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The benchmark's load client: HTTP/1.1 POSTs over plain sockets kept alive, one request at a time on each, written
 * in one piece and read on the calling thread (as wrk and other load generators do). The client shares the machine's
 * 2 cores with the service and the emulators, and the floors have no HTTP client at all: the JDK's {@code HttpClient}
 * spent 170–350 µs of CPU a request on them (its selector thread and executor hand-offs), this one 14–23 µs.
 * <p>
 * Connections are pooled (one per client thread in use at a time) and closed when an answer says
 * {@code Connection: close}, after a failure, or when they have been idle longer than a service keeps them.
 */
final class LeanHttpClient implements AutoCloseable {

    /** What came back: the status and the body as text. */
    record Answer(int status, String body) {
    }

    /** Idle connections older than this are closed rather than reused (the service closes them after 60 s). */
    private static final long MAX_IDLE_NANOS = Duration.ofSeconds(20).toNanos();

    private final Duration timeout;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();

    LeanHttpClient(Duration timeout) {
        this.timeout = timeout;
    }

    /** POSTs the body with the headers given; a connection error is thrown as it came. */
    Answer post(URI uri, Map<String, String> headers, byte[] body) throws IOException {
        StringBuilder head = new StringBuilder(256).append("POST ")
                .append(uri.getRawPath().isEmpty() ? "/" : uri.getRawPath()).append(" HTTP/1.1\r\nHost: ")
                .append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, request, 0, headBytes.length);
        System.arraycopy(body, 0, request, headBytes.length, body.length);

        Connection connection = take(uri);
        try {
            connection.out.write(request);
            connection.out.flush();
            Answer answer = connection.read();
            if (connection.keepAlive) {
                connection.idleSince = System.nanoTime();
                idle.push(connection);
            } else {
                connection.close();
            }
            return answer;
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private Connection take(URI uri) throws IOException {
        long now = System.nanoTime();
        for (Connection connection; (connection = idle.poll()) != null; ) {
            if (now - connection.idleSince < MAX_IDLE_NANOS && connection.port == uri.getPort()
                && connection.host.equals(uri.getHost())) {
                return connection;
            }
            connection.close();
        }
        return new Connection(uri.getHost(), uri.getPort(), (int) timeout.toMillis());
    }

    @Override
    public void close() {
        for (Connection connection; (connection = idle.poll()) != null; ) {
            connection.close();
        }
    }

    private static final class Connection {
        final String host;
        final int port;
        final Socket socket;
        final OutputStream out;
        final InputStream in;
        boolean keepAlive = true;
        long idleSince;

        Connection(String host, int port, int timeoutMillis) throws IOException {
            this.host = host;
            this.port = port;
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(host, port), 5_000);
            socket.setSoTimeout(timeoutMillis);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        }

        Answer read() throws IOException {
            String statusLine = line();
            if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12) {
                throw new IOException("not an HTTP/1.x answer: " + statusLine);
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = -1;
            boolean chunked = false;
            keepAlive = statusLine.startsWith("HTTP/1.1");
            for (String header; !(header = line()).isEmpty(); ) {
                int colon = header.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String name = header.substring(0, colon).trim();
                String value = header.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("Content-Length")) {
                    length = Long.parseLong(value);
                } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                    chunked = value.toLowerCase(java.util.Locale.ROOT).contains("chunked");
                } else if (name.equalsIgnoreCase("Connection")) {
                    keepAlive = !value.equalsIgnoreCase("close");
                }
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (chunked) {
                while (true) {
                    String size = line();
                    int extension = size.indexOf(';');
                    long chunk = Long.parseLong((extension < 0 ? size : size.substring(0, extension)).trim(), 16);
                    if (chunk == 0) {
                        while (!line().isEmpty()) {
                            // trailers
                        }
                        break;
                    }
                    copy(chunk, body);
                    line();
                }
            } else if (length >= 0) {
                copy(length, body);
            } else {
                // no length: the body runs to the end of the connection
                in.transferTo(body);
                keepAlive = false;
            }
            return new Answer(status, body.toString(StandardCharsets.UTF_8));
        }

        private void copy(long count, ByteArrayOutputStream to) throws IOException {
            byte[] buffer = new byte[(int) Math.min(count, 16 * 1024)];
            long left = count;
            while (left > 0) {
                int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (read < 0) {
                    throw new EOFException("the connection ended inside a body");
                }
                to.write(buffer, 0, read);
                left -= read;
            }
        }

        private String line() throws IOException {
            StringBuilder line = new StringBuilder(64);
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    throw new EOFException("the connection ended before the answer did");
                }
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
