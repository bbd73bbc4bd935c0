package com.metropia.portal.messaging;

import org.apache.camel.main.Main;

/**
 * Runs portal-messaging as a stand-alone service: the YAML routes, the HTTP API and real SQS and MongoDB.
 */
public final class PortalMessagingApplication {

    /** Where the packed copy of the YAML routes lives inside the jar. */
    public static final String PACKED_ROUTES = "classpath:portal-messaging/routes/*.camel.yaml";

    private PortalMessagingApplication() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(createMain().run(args));
    }

    /**
     * A Camel Main with the project's configuration. Extra configuration classes run first, so they can start what the
     * portal configuration connects to (the embedded emulators do).
     */
    public static Main createMain(Class<?>... configurationsFirst) {
        // The logging configuration is packed in a folder of its own so it never clashes with a host application's.
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", "classpath:portal-messaging/log4j2.properties");
        }
        Main main = new Main();
        for (Class<?> configuration : configurationsFirst) {
            main.configure().addConfiguration(configuration.asSubclass(org.apache.camel.CamelConfiguration.class));
        }
        main.configure().addConfiguration(PortalConfiguration.class);
        // application.properties of the working directory (the repository) is the configuration file; without it the
        // packed routes and the defaults below still make a working service, configured by environment variables.
        main.setDefaultPropertyPlaceholderLocation("file:application.properties;optional=true");
        main.addInitialProperty("camel.main.name", "portal-messaging");
        main.addInitialProperty("camel.main.routes-include-pattern", PACKED_ROUTES);
        main.addInitialProperty("camel.server.enabled", "true");
        main.addInitialProperty("camel.server.host", "{{portal.http.host:0.0.0.0}}");
        main.addInitialProperty("camel.server.port", "{{portal.http.port:8080}}");
        // Health and metrics share the API's server: on a port of their own the API routes would bind to theirs.
        main.addInitialProperty("camel.management.port", "{{portal.http.port:8080}}");
        main.addInitialProperty("camel.opentelemetry2.enabled", "false");
        // The start-up summary of properties masks secrets by key; a MongoDB URI can hold a password, and Camel's own
        // words do not cover portal.api-keys.
        main.addInitialProperty("camel.main.additional-sensitive-keywords", "uri,apikeys");
        return main;
    }
}
