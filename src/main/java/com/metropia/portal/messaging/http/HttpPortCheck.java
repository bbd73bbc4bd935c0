package com.metropia.portal.messaging.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Optional;

/**
 * Whether the HTTP server can listen on its address. Vert.x only logs a failed listen and Camel carries on as if it
 * served: the address is tried before the server starts (so a port in use joins the other problems of the start-up),
 * and {@link HttpServerListening} confirms afterwards that the server really listens.
 */
public final class HttpPortCheck {

    private HttpPortCheck() {
    }

    /** The problem with listening on host:port now, or empty when a server could listen there. */
    public static Optional<String> problem(String host, int port) {
        return bindFailure(host, port).map(reason -> message(host, port, reason));
    }

    /** Why a server cannot listen on host:port now (Address already in use, ...), or empty when it can. */
    static Optional<String> bindFailure(String host, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // as Vert.x binds: a port left in TIME_WAIT by an earlier run is free to take
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(host, port));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    static String message(String host, int port, String reason) {
        return "The HTTP server cannot listen on " + host + ":" + port + " (" + reason + "): stop what uses port "
               + port + ", or set portal.http.port (PORTAL_HTTP_PORT) to a free port"
               + (host.equals("0.0.0.0") ? "" : " or portal.http.host (PORTAL_HTTP_HOST) to an address of this"
                                                 + " machine");
    }
}
