package com.metropia.portal.messaging.config;

import com.metropia.portal.messaging.InvalidConfigurationException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.camel.spi.PropertiesComponent;

/**
 * The defaults of every {@code portal.*} setting (and the Camel settings of the stand-alone service), from the one
 * file that holds them, {@value #RESOURCE}. They are Camel's initial properties, which it reads last: an application's
 * properties, environment variables and system properties win over them. So the routes use plain {@code {{key}}}
 * placeholders and the Java code reads a setting's value without a default of its own.
 */
public final class PortalDefaults {

    /** The defaults, packed in the jar beside the routes. */
    public static final String RESOURCE = "portal-messaging/defaults.properties";

    private static final Map<String, String> ALL = load();

    private PortalDefaults() {
    }

    /** Every default of the file, by key: the {@code portal.*} settings and the stand-alone service's Camel settings. */
    public static Map<String, String> all() {
        return ALL;
    }

    /** The default of one setting, or null when it has none (such as {@code portal.mongodb.uri}). */
    public static String of(String key) {
        return ALL.get(key);
    }

    /**
     * Gives the context the {@code portal.*} defaults as initial properties, those of the application's own initial
     * properties excepted (they are its defaults, and win). The Camel settings of the stand-alone service are left
     * out: an application that includes the routes runs its Camel as it chose. Safe to call more than once.
     */
    public static void addTo(PropertiesComponent properties) {
        Properties initial = properties instanceof org.apache.camel.component.properties.PropertiesComponent camel
                ? camel.getInitialProperties() : null;
        ALL.forEach((key, value) -> {
            // getProperty: Camel's OrderedProperties answers containsKey from an empty table
            if (key.startsWith("portal.") && (initial == null || initial.getProperty(key) == null)) {
                properties.addInitialProperty(key, value);
            }
        });
    }

    /**
     * The value of a setting that has a default, trimmed; a blank value (an empty environment variable, say) stops
     * the start-up with a message naming the setting, for the routes would read it blank.
     */
    public static String setting(PropertiesComponent properties, String key) {
        return PortalConfiguration.optional(properties, key)
                .orElseThrow(() -> new InvalidConfigurationException(List.of(blank(key))));
    }

    /** The problem of a setting that has a default but is given blank (or, never from the jar, not at all). */
    static String blank(String key) {
        String defaultValue = of(key);
        return key + " (" + ConfigurationProblems.environmentVariable(key) + ") is blank: give it a value"
               + (defaultValue == null ? "" : ", or leave it unset for its default " + defaultValue);
    }

    private static Map<String, String> load() {
        Properties properties = new Properties();
        try (InputStream in = PortalDefaults.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + RESOURCE, e);
        }
        Map<String, String> all = new TreeMap<>();
        properties.stringPropertyNames().forEach(key -> all.put(key, properties.getProperty(key).trim()));
        return java.util.Collections.unmodifiableMap(all);
    }
}
