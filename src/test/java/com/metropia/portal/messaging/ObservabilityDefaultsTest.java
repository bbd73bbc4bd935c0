package com.metropia.portal.messaging;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.function.Function;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.apache.camel.CamelContext;
import org.apache.camel.ManagementStatisticsLevel;
import org.apache.camel.api.management.ManagedCamelContext;
import org.apache.camel.main.Main;
import org.apache.camel.spi.CamelTracingService;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the service observes of itself by default, run with environment variables only (no application.properties):
 * no tracing until told to (camel-observability-services would otherwise switch OpenTelemetry on, and trace every step
 * of every request with no collector to send the spans to), and no JMX MBeans until told to (their registration is a
 * quarter of a start-up); with JMX on, statistics of the context and the routes, not of every step of every exchange.
 */
class ObservabilityDefaultsTest {

    @Test
    void should_not_trace_when_no_properties_file_switches_tracing_on() throws Exception {
        assertThat(startWithoutPropertiesFile(Map.of(), ObservabilityDefaultsTest::traces)).isFalse();
    }

    @Test
    void should_trace_when_the_settings_switch_tracing_on() throws Exception {
        assertThat(startWithoutPropertiesFile(Map.of("camel.opentelemetry2.enabled", "true"),
                ObservabilityDefaultsTest::traces)).isTrue();
    }

    @Test
    void should_register_no_mbeans_unless_the_settings_switch_jmx_on() throws Exception {
        boolean registered = startWithoutPropertiesFile(Map.of(), ObservabilityDefaultsTest::registersMBeans);

        assertThat(registered).isFalse();
    }

    @Test
    void should_keep_statistics_of_the_routes_but_not_of_each_step_when_jmx_is_on() throws Exception {
        String shown = startWithoutPropertiesFile(Map.of("camel.main.jmx-enabled", "true"), context -> {
            ManagementStatisticsLevel statistics = context.getManagementStrategy().getManagementAgent()
                    .getStatisticsLevel();
            // the routes still count their exchanges (what the tests and operators read)
            boolean routeCounted = context.getCamelContextExtension().getContextPlugin(ManagedCamelContext.class)
                                           .getManagedRoute("http-tasks") != null;
            return statistics + ", route counted: " + routeCounted + ", MBeans: " + registersMBeans(context);
        });

        assertThat(shown).isEqualTo(ManagementStatisticsLevel.RoutesOnly + ", route counted: true, MBeans: true");
    }

    @Test
    void should_time_each_step_when_the_settings_ask_for_it() throws Exception {
        ManagementStatisticsLevel statistics = startWithoutPropertiesFile(
                Map.of("camel.main.jmx-enabled", "true", "camel.main.jmx-management-statistics-level", "Default"),
                context -> context.getManagementStrategy().getManagementAgent().getStatisticsLevel());

        assertThat(statistics).isEqualTo(ManagementStatisticsLevel.Default);
    }

    /** Whether the context's routes are in the JVM's MBean server, where jconsole and Hawtio look. */
    private static boolean registersMBeans(CamelContext context) {
        try {
            ObjectName routes = new ObjectName("org.apache.camel:context=" + context.getManagementName()
                                               + ",type=routes,*");
            return !ManagementFactory.getPlatformMBeanServer().queryNames(routes, null).isEmpty();
        } catch (MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean traces(CamelContext context) {
        return context.hasService(CamelTracingService.class) != null;
    }

    /** What the started service shows. */
    private static <T> T startWithoutPropertiesFile(Map<String, String> settings, Function<CamelContext, T> shows)
            throws Exception {
        EmbeddedEmulators emulators = SharedEmulators.get();
        String queueUrl = emulators.createQueue("observability-defaults");
        Main main = PortalMessagingApplication.createMain();
        main.setDefaultPropertyPlaceholderLocation("file:target/no-such-application.properties;optional=true");
        PortalService.emulatorProperties(emulators, queueUrl, "observability_defaults").forEach(main::addOverrideProperty);
        main.addOverrideProperty("portal.http.port", String.valueOf(PortalService.freePort()));
        settings.forEach(main::addOverrideProperty);
        try {
            main.start();
            return shows.apply(main.getCamelContext());
        } finally {
            main.stop();
        }
    }
}
