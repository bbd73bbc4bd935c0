package com.metropia.portal.messaging;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of a backend that can hold what its clients send: while held, the bytes of a request are taken
 * but not passed on, so the request stays in flight, unanswered, until {@link #release()}. Nothing is lost or reset. For
 * the few connections of a test: plain sockets, two threads a connection.
 */
final class HoldingProxy implements AutoCloseable {

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong heldBytes = new AtomicLong();
    private boolean holding;

    private HoldingProxy(InetSocketAddress target, ServerSocket server) {
        this.target = target;
        this.server = server;
    }

    /** Listens on a free port of 127.0.0.1 and forwards each connection to the port given on 127.0.0.1. */
    static HoldingProxy to(int targetPort) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            HoldingProxy proxy = new HoldingProxy(new InetSocketAddress("127.0.0.1", targetPort), server);
            Thread acceptor = new Thread(proxy::accept, "holding-proxy-" + targetPort);
            acceptor.setDaemon(true);
            acceptor.start();
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return server.getLocalPort();
    }

    /** From now on, what clients send waits here. */
    synchronized void hold() {
        holding = true;
        heldBytes.set(0);
    }

    /** Bytes clients sent since {@link #hold()} that are waiting here. */
    long heldBytes() {
        return heldBytes.get();
    }

    /** Passes on what waited, and everything after it. */
    synchronized void release() {
        holding = false;
        notifyAll();
    }

    private synchronized void awaitRelease(int bytes) throws InterruptedException {
        if (holding) {
            heldBytes.addAndGet(bytes);
        }
        while (holding) {
            wait();
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket backend = new Socket();
                backend.connect(target, 5_000);
                open.add(client);
                open.add(backend);
                pump(client, backend, true);
                pump(backend, client, false);
            } catch (IOException e) {
                // closed, or the backend refused: the client sees its connection end
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    if (fromClient) {
                        awaitRelease(n);
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side closed: the other follows below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "holding-proxy-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private void closeQuietly(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        release();
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        open.forEach(this::closeQuietly);
    }
}
