package com.metropia.portal.messaging;

import com.metropia.portal.messaging.config.PortalConfiguration;
import com.metropia.portal.messaging.config.PortalDefaults;
import com.metropia.portal.messaging.support.BufferedConsole;
import com.metropia.portal.messaging.support.LogValues;
import java.util.Arrays;

import com.metropia.portal.messaging.lint.RouteLint;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.util.ObjectHelper;
import org.slf4j.LoggerFactory;

/**
 * Runs portal-messaging as a stand-alone service: the YAML routes, the HTTP API and real SQS and MongoDB.
 */
public final class PortalMessagingApplication {

    /** Where the packed copy of the YAML routes lives inside the jar. */
    public static final String PACKED_ROUTES = PortalDefaults.of("camel.main.routes-include-pattern");

    /** Exit code of a start-up stopped by the configuration ({@link InvalidConfigurationException}). */
    public static final int CONFIGURATION_ERROR = 2;

    /** System property naming the console log format, text or json (the appender log4j2.properties writes to). */
    static final String LOG_FORMAT = "portal.log.format";

    private static final String TRACING = "camel.opentelemetry2.enabled";
    private static final String PROMETHEUS_MODULE =
            "org/apache/camel/component/micrometer/prometheus/MicrometerPrometheus.class";

    private PortalMessagingApplication() {
    }

    /**
     * text or json, from -Dportal.log.format or PORTAL_LOG_FORMAT; any other value would leave log4j without an
     * appender, and the service silent: it is said on standard error and text is used.
     */
    static String logFormat(String property, String environment) {
        String value = property != null ? property : environment;
        if (value == null || value.isBlank()) {
            return "text";
        }
        String format = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (format.equals("text") || format.equals("json")) {
            return format;
        }
        System.err.println("PORTAL_LOG_FORMAT (portal.log.format) must be text or json, not '"
                           + LogValues.of(value) + "': the log is written as text");
        return "text";
    }

    public static void main(String[] args) throws Exception {
        // java -jar portal-messaging.jar lint [dir]: the offline route check, without starting the service
        if (args.length > 0 && args[0].equals("lint")) {
            RouteLint.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        System.exit(BufferedConsole.around(() -> run(createMain(), args)));
    }

    /**
     * Runs the service until it is stopped and returns its exit code. A start-up stopped by the configuration ends
     * with {@link #CONFIGURATION_ERROR} and the list of problems, without a stack trace; any other failure is thrown.
     */
    public static int run(Main main, String[] args) throws Exception {
        try {
            return main.run(args);
        } catch (Exception e) {
            InvalidConfigurationException problems = ObjectHelper.getException(InvalidConfigurationException.class, e);
            if (problems == null) {
                throw e;
            }
            // Marked done, so that on exit Camel's hang-up hook does not report a SIGTERM that nobody sent.
            main.completed();
            // a logger of its own here: createMain chose the logging configuration first
            // one log line each: the service's layout writes a line break inside a message as \n
            problems.getMessage().lines().forEach(LoggerFactory.getLogger(PortalMessagingApplication.class)::error);
            return CONFIGURATION_ERROR;
        }
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
        System.setProperty(LOG_FORMAT, logFormat(System.getProperty(LOG_FORMAT), System.getenv("PORTAL_LOG_FORMAT")));
        Main main = new Main();
        for (Class<?> configuration : configurationsFirst) {
            main.configure().addConfiguration(configuration.asSubclass(org.apache.camel.CamelConfiguration.class));
        }
        main.configure().addConfiguration(PortalConfiguration.class);
        // application.properties of the working directory (the repository) is the configuration file; without it the
        // packed routes and the defaults still make a working service, configured by environment variables.
        main.setDefaultPropertyPlaceholderLocation("file:application.properties;optional=true");
        // Every default, portal.* and the service's Camel settings (packed routes, HTTP server on portal.http.port,
        // masked keys, ...), from the one file that holds them: the lowest-priority properties, below that file.
        PortalDefaults.all().forEach(main::addInitialProperty);
        // Camel's Micrometer timer of every exchange (one per event of a request) is off where its metrics are: the
        // portal_* metrics count without it. Set only there, as any camel.metrics.* key makes Camel require the module.
        if (PortalMessagingApplication.class.getClassLoader().getResource(PROMETHEUS_MODULE) != null) {
            main.addInitialProperty("camel.metrics.enableExchangeEventNotifier", "false");
        }
        // camel-observability-services puts camel.opentelemetry2.enabled=true among the initial properties, over the
        // value above (its check for a value already there misses Camel's ordered properties): without this, tracing
        // runs on every step of every request with no collector to send to, unless application.properties, the
        // environment or the JVM says otherwise.
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport configuring) {
                configuring.getInitialProperties().setProperty(TRACING, "false");
                if (configuring.getCamelContext().getPropertiesComponent()
                        instanceof org.apache.camel.component.properties.PropertiesComponent properties
                    && properties.getInitialProperties() != null) {
                    properties.getInitialProperties().setProperty(TRACING, "false");
                }
            }
        });
        return main;
    }
}
