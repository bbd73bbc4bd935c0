package com.metropia.portal.messaging.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The first bean of http-api.camel.yaml: it fails the load of that file with the dependencies it needs when the class
 * path lacks them (an application that includes the jar's routes with a wildcard, without the HTTP modules), instead of
 * the bare {@code NoClassDefFoundError} the next bean's class would throw. It needs nothing but the JDK.
 */
public final class HttpModules {

    /** A class of each module the HTTP routes need, and the module that brings it. */
    private static final Map<String, String> REQUIRED = new LinkedHashMap<>();

    static {
        REQUIRED.put("io.vertx.ext.web.RoutingContext", "org.apache.camel:camel-platform-http-vertx");
        REQUIRED.put("org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter",
                "org.apache.camel:camel-platform-http-vertx");
        REQUIRED.put("org.apache.camel.component.platform.http.main.MainHttpServer",
                "org.apache.camel:camel-platform-http-main");
    }

    static {
        List<String> missing = missing(HttpModules.class.getClassLoader());
        if (!missing.isEmpty()) {
            // From the class's initialisation, as an Error: Camel keeps a bean whose constructor fails for a second
            // try and goes on to the next bean, whose missing classes then fail bare.
            throw new MissingModulesError("http-api.camel.yaml (the HTTP API of portal-messaging) needs "
                    + String.join(" and ", missing) + " on the class path. Add "
                    + (missing.size() == 1 ? "it" : "them")
                    + ", or include only tasks.camel.yaml and events.camel.yaml"
                    + " (README, \"Embedding the routes in a Camel application\").");
        }
    }

    /** The HTTP modules are not on the class path of an application that loads the HTTP routes. */
    public static final class MissingModulesError extends Error {
        private static final long serialVersionUID = 1L;

        MissingModulesError(String message) {
            super(message);
        }
    }

    /** The modules whose classes the loader cannot find, each named once. */
    public static List<String> missing(ClassLoader loader) {
        List<String> missing = new ArrayList<>();
        REQUIRED.forEach((type, module) -> {
            if (!missing.contains(module) && loader.getResource(type.replace('.', '/') + ".class") == null) {
                missing.add(module);
            }
        });
        return missing;
    }
}
