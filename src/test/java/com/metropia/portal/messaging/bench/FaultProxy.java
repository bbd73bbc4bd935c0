package com.metropia.portal.messaging.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of a server that can be switched off and on, to stop a backend for a while without losing
 * what it stores. {@link #down()} resets every open connection and, until {@link #up()}, resets each new one as soon
 * as it is accepted (the port stays taken, so {@code up()} never finds it used by someone else). Plain sockets and two
 * threads per connection: enough for the few dozen connections of a fault run.
 */
public final class FaultProxy implements AutoCloseable {

    private final String name;
    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong reset = new AtomicLong();
    private boolean up = true;
    private volatile boolean closed;

    private FaultProxy(String name, InetSocketAddress target, ServerSocket server) {
        this.name = name;
        this.target = target;
        this.server = server;
    }

    /** Listens on a free port of the host and forwards every connection to the target port on the same host. */
    public static FaultProxy start(String name, String host, int targetPort) {
        try {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(host, 0), 200);
            FaultProxy proxy = new FaultProxy(name, new InetSocketAddress(host, targetPort), server);
            Thread acceptor = new Thread(proxy::acceptLoop, "fault-proxy-" + name);
            acceptor.setDaemon(true);
            acceptor.start();
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    public String name() {
        return name;
    }

    /** Connections accepted so far, and of those how many were reset (by {@link #down()} or while down). */
    public long accepted() {
        return accepted.get();
    }

    public long reset() {
        return reset.get();
    }

    public synchronized boolean isUp() {
        return up;
    }

    /** Resets every open connection; new ones are reset as soon as they are accepted. Returns how many were open. */
    public synchronized int down() {
        up = false;
        int connections = open.size() / 2;
        open.forEach(FaultProxy::resetQuietly);
        open.clear();
        reset.addAndGet(connections);
        return connections;
    }

    /** Forwards new connections again. */
    public synchronized void up() {
        up = true;
    }

    @Override
    public void close() {
        closed = true;
        down();
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            accepted.incrementAndGet();
            if (!isUp()) {
                reset.incrementAndGet();
                resetQuietly(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                upstream.connect(target, 2_000);
            } catch (IOException e) {
                resetQuietly(client);
                resetQuietly(upstream);
                continue;
            }
            synchronized (this) {
                if (!up) {
                    reset.incrementAndGet();
                    resetQuietly(client);
                    resetQuietly(upstream);
                    continue;
                }
                open.add(client);
                open.add(upstream);
            }
            AtomicInteger directionsLeft = new AtomicInteger(2);
            pump(client, upstream, directionsLeft, "up");
            pump(upstream, client, directionsLeft, "down");
        }
    }

    /** Copies one direction; an end of stream is passed on as a half close, an error ends both directions. */
    private void pump(Socket from, Socket to, AtomicInteger directionsLeft, String direction) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int read;
                while ((read = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, read);
                }
                to.shutdownOutput();
                if (directionsLeft.decrementAndGet() == 0) {
                    closeBoth(from, to);
                }
            } catch (IOException e) {
                closeBoth(from, to);
            }
        }, "fault-proxy-" + name + "-" + direction);
        thread.setDaemon(true);
        thread.start();
    }

    private void closeBoth(Socket a, Socket b) {
        open.remove(a);
        open.remove(b);
        closeQuietly(a);
        closeQuietly(b);
    }

    /** Closes with a TCP reset, as a crashed or unplugged server looks to its peer. */
    private static void resetQuietly(Socket socket) {
        try {
            if (!socket.isClosed()) {
                socket.setSoLinger(true, 0);
            }
        } catch (SocketException e) {
            // closed below anyway
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing left to release
        }
    }

    @Override
    public String toString() {
        return name + " proxy " + target.getHostString() + ":" + port() + " -> " + target.getPort();
    }
}
