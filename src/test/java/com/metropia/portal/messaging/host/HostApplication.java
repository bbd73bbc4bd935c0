package com.metropia.portal.messaging.host;

import org.apache.camel.main.Main;

/**
 * Stands for an existing camel-main application that depends on portal-messaging: its own main class and its own
 * {@code application.properties}, nothing else from the project.
 */
public final class HostApplication {

    private HostApplication() {
    }

    public static Main create() {
        Main main = new Main();
        main.setDefaultPropertyPlaceholderLocation("classpath:host-app/application.properties");
        return main;
    }

    public static void main(String[] args) throws Exception {
        System.exit(create().run(args));
    }
}
