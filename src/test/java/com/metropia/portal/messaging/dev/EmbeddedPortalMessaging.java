package com.metropia.portal.messaging.dev;

import com.metropia.portal.messaging.PortalMessagingApplication;
import com.metropia.portal.messaging.support.BufferedConsole;
import org.apache.camel.main.Main;

/**
 * The service on one machine with no cloud account: in-process SQS and MongoDB emulators, profile {@code embedded}
 * ({@code application-embedded.properties}). Started by the README's run command; lives with the tests so the emulators never
 * reach the runtime class path.
 */
public final class EmbeddedPortalMessaging {

    private EmbeddedPortalMessaging() {
    }

    public static void main(String[] args) throws Exception {
        // standard output in blocks, as the packaged service writes it (BufferedConsole)
        System.exit(BufferedConsole.around(() -> {
            Main main = PortalMessagingApplication.createMain(EmbeddedEmulatorsConfiguration.class,
                    RouteReloadConfiguration.class);
            main.configure().setProfile("embedded");
            return PortalMessagingApplication.run(main, args);
        }));
    }
}
