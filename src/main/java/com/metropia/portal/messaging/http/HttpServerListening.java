package com.metropia.portal.messaging.http;

import com.metropia.portal.messaging.InvalidConfigurationException;
import org.apache.camel.CamelContext;
import org.apache.camel.StartupListener;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.impl.TCPServerBase;

/**
 * Stops the start-up when the embedded HTTP server does not listen. camel-platform-http-vertx 4.17 waits for the
 * listen to finish but, when it fails (a port taken since {@link HttpPortCheck} looked), only logs a warning; its
 * Vert.x server then says it does not listen. Runs before the routes take requests.
 */
public final class HttpServerListening implements StartupListener {

    @Override
    public void onCamelContextStarted(CamelContext context, boolean alreadyStarted) {
        if (alreadyStarted) {
            return;
        }
        for (VertxPlatformHttpServer platformServer : context.hasServices(VertxPlatformHttpServer.class)) {
            HttpServer server = platformServer.getServer();
            // Vert.x 4 keeps isListening on its server implementation only; actualPort reports the port asked for
            if (server instanceof TCPServerBase tcp && !tcp.isListening()) {
                String host = platformServer.getHost();
                int port = platformServer.getConfigurationPort();
                String reason = HttpPortCheck.bindFailure(host, port)
                        .orElse("see the warning of VertxPlatformHttpServer above");
                throw new InvalidConfigurationException(HttpPortCheck.message(host, port, reason));
            }
        }
    }
}
