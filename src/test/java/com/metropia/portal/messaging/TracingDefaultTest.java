package com.metropia.portal.messaging;

import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import org.apache.camel.main.Main;
import org.apache.camel.spi.CamelTracingService;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Run with environment variables only (no application.properties), the service traces nothing until told to:
 * camel-observability-services would otherwise switch OpenTelemetry on, and trace every step of every request with no
 * collector to send the spans to.
 */
class TracingDefaultTest {

    @Test
    void should_not_trace_when_no_properties_file_switches_tracing_on() throws Exception {
        assertThat(startWithoutPropertiesFile(Map.of())).isFalse();
    }

    @Test
    void should_trace_when_the_settings_switch_tracing_on() throws Exception {
        assertThat(startWithoutPropertiesFile(Map.of("camel.opentelemetry2.enabled", "true"))).isTrue();
    }

    /** Whether the started service has a tracer. */
    private static boolean startWithoutPropertiesFile(Map<String, String> settings) throws Exception {
        EmbeddedEmulators emulators = SharedEmulators.get();
        String queueUrl = emulators.createQueue("tracing-default");
        Main main = PortalMessagingApplication.createMain();
        main.setDefaultPropertyPlaceholderLocation("file:target/no-such-application.properties;optional=true");
        PortalService.emulatorProperties(emulators, queueUrl, "tracing_default").forEach(main::addOverrideProperty);
        main.addOverrideProperty("portal.http.port", String.valueOf(PortalService.freePort()));
        settings.forEach(main::addOverrideProperty);
        try {
            main.start();
            return main.getCamelContext().hasService(CamelTracingService.class) != null;
        } finally {
            main.stop();
        }
    }
}
