package com.metropia.portal.messaging.http;

import com.metropia.portal.messaging.config.PortalDefaults;
import java.time.Duration;

import org.apache.camel.spi.PropertiesComponent;

/**
 * How long the HTTP server waits for a caller, and how many connections it keeps ({@code portal.http.*}).
 *
 * @param idleTimeout    a connection with no request in progress is closed after this long
 * @param headerTimeout  a request whose line and headers are not complete this long after its first byte is answered
 *                       408 and its connection closed, however steadily the bytes trickle in
 * @param bodyTimeout    likewise for a body not complete this long after its headers
 * @param maxConnections connections beyond this many open at once are answered 503 and closed
 */
public record HttpEdgeSettings(Duration idleTimeout, Duration headerTimeout, Duration bodyTimeout, int maxConnections) {

    static HttpEdgeSettings from(PropertiesComponent properties) {
        return new HttpEdgeSettings(
                Duration.ofSeconds(positive(properties, "portal.http.idle-timeout-seconds")),
                Duration.ofSeconds(positive(properties, "portal.http.header-timeout-seconds")),
                Duration.ofSeconds(positive(properties, "portal.http.body-timeout-seconds")),
                positive(properties, "portal.http.max-connections"));
    }

    private static int positive(PropertiesComponent properties, String key) {
        String value = PortalDefaults.setting(properties, key);
        try {
            int parsed = Integer.parseInt(value);
            if (parsed > 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalStateException(key + " must be a whole number above 0, not '" + value + "'");
    }
}
