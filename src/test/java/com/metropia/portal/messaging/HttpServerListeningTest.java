package com.metropia.portal.messaging;

import com.metropia.portal.messaging.http.HttpServerListening;
import java.net.InetAddress;
import java.net.ServerSocket;

import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.util.ObjectHelper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The check after the server start, for a port taken after the check before it: the Vert.x server of
 * camel-platform-http-vertx that could not listen stops the start-up, one that listens does not.
 */
class HttpServerListeningTest {

    @Test
    void should_stop_the_start_up_when_the_http_server_could_not_listen() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            CamelContext context = contextWithServerOn(taken.getLocalPort());
            try {
                Throwable failure = catchThrowable(context::start);

                InvalidConfigurationException problems = ObjectHelper.getException(InvalidConfigurationException.class,
                        failure);
                assertThat(problems).as("%s", failure).isNotNull();
                assertThat(problems.getProblems()).singleElement().asString()
                        .contains("The HTTP server cannot listen on 127.0.0.1:" + taken.getLocalPort()
                                  + " (Address already in use)")
                        .contains("portal.http.port (PORTAL_HTTP_PORT)");
            } finally {
                context.stop();
            }
        }
    }

    @Test
    void should_let_a_server_that_listens_start() throws Exception {
        CamelContext context = contextWithServerOn(PortalService.freePort());
        try {
            context.start();

            assertThat(context.getStatus().isStarted()).isTrue();
        } finally {
            context.stop();
        }
    }

    private static CamelContext contextWithServerOn(int port) throws Exception {
        VertxPlatformHttpServerConfiguration configuration = new VertxPlatformHttpServerConfiguration();
        configuration.setBindHost("127.0.0.1");
        configuration.setBindPort(port);
        CamelContext context = new DefaultCamelContext();
        // as Camel Main adds its HTTP server: started with the context's services, before the routes
        context.addService(new VertxPlatformHttpServer(configuration), true, true);
        context.addStartupListener(new HttpServerListening());
        return context;
    }
}
