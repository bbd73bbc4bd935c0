package com.metropia.portal.messaging.lint;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which dependency a route file needs when a class or component it uses is not on the class path: an application that
 * includes the routes of the jar gets a bare {@code NoClassDefFoundError} otherwise.
 */
public final class Dependencies {

    /** Package of a missing class, and what brings it. */
    private static final Map<String, String> BY_PACKAGE = new LinkedHashMap<>();

    /** Component scheme, and what brings it. */
    private static final Map<String, String> BY_SCHEME = new LinkedHashMap<>();

    static {
        String http = "org.apache.camel:camel-platform-http-vertx and org.apache.camel:camel-platform-http-main";
        BY_PACKAGE.put("io.vertx.", http);
        BY_PACKAGE.put("org.apache.camel.component.platform.http.", http);
        BY_PACKAGE.put("software.amazon.awssdk.", "org.apache.camel:camel-aws2-sqs");
        BY_PACKAGE.put("org.apache.camel.component.aws2.sqs.", "org.apache.camel:camel-aws2-sqs");
        BY_PACKAGE.put("com.mongodb.", "org.apache.camel:camel-mongodb");
        BY_PACKAGE.put("org.bson.", "org.apache.camel:camel-mongodb");
        BY_PACKAGE.put("org.apache.camel.component.mongodb.", "org.apache.camel:camel-mongodb");
        BY_PACKAGE.put("com.networknt.", "org.apache.camel:camel-json-validator");
        BY_PACKAGE.put("com.fasterxml.jackson.", "org.apache.camel:camel-jackson");
        BY_SCHEME.put("platform-http", http);
        BY_SCHEME.put("aws2-sqs", "org.apache.camel:camel-aws2-sqs");
        BY_SCHEME.put("mongodb", "org.apache.camel:camel-mongodb");
        BY_SCHEME.put("json-validator", "org.apache.camel:camel-json-validator");
    }

    private Dependencies() {
    }

    /** What brings a component; Camel's own components follow one naming rule. */
    static String forScheme(String scheme) {
        return BY_SCHEME.getOrDefault(scheme, "org.apache.camel:camel-" + scheme);
    }

    /** What brings a class (dotted or slashed name), if it is one of those the routes use. */
    static Optional<String> forClass(String className) {
        String dotted = className.replace('/', '.');
        return BY_PACKAGE.entrySet().stream().filter(e -> dotted.startsWith(e.getKey())).map(Map.Entry::getValue)
                .findFirst();
    }

    /**
     * "needs io.vertx.ext.web.RoutingContext, which comes with ..." for a failure whose cause is a class missing from
     * the class path.
     */
    public static Optional<String> explain(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof NoClassDefFoundError || t instanceof ClassNotFoundException) {
                String missing = String.valueOf(t.getMessage()).replace('/', '.').trim();
                return Optional.of("needs class " + missing + ", which is not on the class path"
                                   + forClass(missing).map(artifact -> ": add " + artifact).orElse(""));
            }
        }
        return Optional.empty();
    }
}
