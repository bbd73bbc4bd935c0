package com.metropia.portal.messaging.config;

import com.metropia.portal.messaging.InvalidConfigurationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.apache.camel.spi.PropertiesComponent;

/**
 * Reads settings and collects what is wrong with them instead of stopping at the first, so that one start-up reports
 * every problem ({@link #throwIfAny()}). A wrong value reads as its default, for the reading to go on.
 */
final class ConfigurationProblems {

    private final PropertiesComponent properties;
    private final List<String> problems = new ArrayList<>();

    ConfigurationProblems(PropertiesComponent properties) {
        this.properties = properties;
    }

    Optional<String> optional(String key) {
        return PortalConfiguration.optional(properties, key);
    }

    /** A whole number between min and max, or the default when unset. */
    int intSetting(String key, int defaultValue, int min, int max) {
        String value = optional(key).orElse(null);
        if (value == null) {
            return defaultValue;
        }
        int number;
        try {
            number = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            add(key + " (" + environmentVariable(key) + ") must be a whole number, not '" + value + "'");
            return defaultValue;
        }
        if (number < min || number > max) {
            add(key + " (" + environmentVariable(key) + ") must be " + range(min, max) + ", not " + number);
            return defaultValue;
        }
        return number;
    }

    boolean booleanSetting(String key, boolean defaultValue) {
        String value = optional(key).orElse(null);
        if (value == null) {
            return defaultValue;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                add(key + " (" + environmentVariable(key) + ") must be true or false, not '" + value + "'");
                yield defaultValue;
            }
        };
    }

    void add(String problem) {
        problems.add(problem);
    }

    void addAll(List<String> more) {
        problems.addAll(more);
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    void throwIfAny() {
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
    }

    /** The environment variable that sets the key: upper case, dots and dashes as underscores. */
    static String environmentVariable(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static String range(int min, int max) {
        if (max == Integer.MAX_VALUE) {
            return "at least " + min;
        }
        return "between " + min + " and " + max;
    }
}
