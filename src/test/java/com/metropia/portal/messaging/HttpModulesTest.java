package com.metropia.portal.messaging;

import com.metropia.portal.messaging.http.HttpModules;
import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import com.metropia.portal.messaging.host.WildcardInclude;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A host application that includes every route file of the jar but lacks the HTTP modules. */
class HttpModulesTest {

    @Test
    void should_name_the_missing_http_modules_when_a_host_without_them_loads_the_http_routes() throws Exception {
        String failure = loadWithoutHttpModules("file:" + Path.of("routes", "http-api.camel.yaml").toAbsolutePath());

        assertThat(failure)
                .as("what a host without camel-platform-http-vertx sees when it loads http-api.camel.yaml")
                .contains("http-api.camel.yaml (the HTTP API of portal-messaging) needs"
                          + " org.apache.camel:camel-platform-http-vertx and org.apache.camel:camel-platform-http-main")
                .contains("include only tasks.camel.yaml and events.camel.yaml")
                .doesNotContain("NoClassDefFoundError");
    }

    @Test
    void should_find_nothing_missing_on_the_service_class_path() {
        assertThat(HttpModules.missing(HttpModules.class.getClassLoader())).isEmpty();
    }

    private static String loadWithoutHttpModules(String location) throws Exception {
        Pattern http = Pattern.compile("vertx|platform-http|observability|micrometer|prometheus|telemetry|netty");
        List<URL> withoutHttp = new ArrayList<>();
        String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String entry : path.split(Pattern.quote(File.pathSeparator))) {
            if (!http.matcher(new File(entry).getName()).find()) {
                withoutHttp.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader host = new URLClassLoader(withoutHttp.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            assertThat(host.getResource("io/vertx/ext/web/RoutingContext.class")).isNull();
            Method failureOf = host.loadClass(WildcardInclude.class.getName()).getMethod("failureOf", String.class);
            ClassLoader previous = Thread.currentThread().getContextClassLoader();
            Thread.currentThread().setContextClassLoader(host);
            try {
                return (String) failureOf.invoke(null, location);
            } finally {
                Thread.currentThread().setContextClassLoader(previous);
            }
        }
    }
}
