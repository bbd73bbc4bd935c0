package com.metropia.portal.messaging.config;

import com.metropia.portal.messaging.InvalidConfigurationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.apache.camel.spi.PropertiesComponent;

/**
 * Reads settings and collects what is wrong with them instead of stopping at the first, so that one start-up reports
 * every problem ({@link #throwIfAny()}). A wrong value reads as the least it may be, for the reading to go on. The
 * defaults are not here: they are properties ({@link PortalDefaults}).
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

    /** The value of a setting that has a default ({@link PortalDefaults}); blank is a problem. */
    String setting(String key) {
        String value = optional(key).orElse(null);
        if (value == null) {
            add(PortalDefaults.blank(key));
            return "";
        }
        return value;
    }

    /** A whole number between min and max. */
    int intSetting(String key, int min, int max) {
        String value = optional(key).orElse(null);
        if (value == null) {
            add(PortalDefaults.blank(key));
            return min;
        }
        int number;
        try {
            number = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            add(key + " (" + environmentVariable(key) + ") must be a whole number, not '" + value + "'");
            return min;
        }
        if (number < min || number > max) {
            add(key + " (" + environmentVariable(key) + ") must be " + range(min, max) + ", not " + number);
            return min;
        }
        return number;
    }

    boolean booleanSetting(String key) {
        String value = setting(key);
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                if (!value.isEmpty()) {
                    add(key + " (" + environmentVariable(key) + ") must be true or false, not '" + value + "'");
                }
                yield false;
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
