package com.metropia.portal.messaging.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The proxy of the fault run forwards both ways, cuts every open connection when down, refuses new ones until up.
 */
class FaultProxyTest {

    @Test
    void should_forward_cut_open_connections_when_down_and_forward_again_when_up() throws Exception {
        try (ServerSocket echo = echoServer();
             FaultProxy proxy = FaultProxy.start("echo", "127.0.0.1", echo.getLocalPort())) {
            try (Socket before = connect(proxy)) {
                assertThat(roundTrip(before, "one")).isEqualTo("one");

                assertThat(proxy.down()).isEqualTo(1);

                assertThatThrownBy(() -> roundTrip(before, "two")).isInstanceOf(IOException.class);
            }
            // The reset may come as soon as the connection is made, or on the first read.
            assertThatThrownBy(() -> {
                try (Socket whileDown = connect(proxy)) {
                    roundTrip(whileDown, "three");
                }
            }).isInstanceOf(IOException.class);

            proxy.up();

            try (Socket after = connect(proxy)) {
                assertThat(roundTrip(after, "four")).isEqualTo("four");
            }
            assertThat(proxy.accepted()).isEqualTo(3);
            assertThat(proxy.reset()).isEqualTo(2);
        }
    }

    private static Socket connect(FaultProxy proxy) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2_000);
        socket.setSoTimeout(5_000);
        return socket;
    }

    /** Writes the text and reads as many bytes back; an end of stream is an error, as a cut connection. */
    private static String roundTrip(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes());
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] back = new byte[text.length()];
        for (int read = 0; read < back.length; ) {
            int n = in.read(back, read, back.length - read);
            if (n < 0) {
                throw new IOException("end of stream");
            }
            read += n;
        }
        return new String(back);
    }

    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread thread = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    Thread echo = new Thread(() -> {
                        try (socket) {
                            socket.getInputStream().transferTo(socket.getOutputStream());
                        } catch (IOException e) {
                            // the proxy cut it
                        }
                    });
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        thread.setDaemon(true);
        thread.start();
        return server;
    }
}
