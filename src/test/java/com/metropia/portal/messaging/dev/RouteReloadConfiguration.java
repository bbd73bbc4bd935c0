package com.metropia.portal.messaging.dev;

import java.nio.file.Path;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;

/**
 * Turns on {@link RouteFileReloader} for {@code portal.dev.routes-reload-directory}, when that property is set.
 */
public class RouteReloadConfiguration implements CamelConfiguration {

    @Override
    public void configure(CamelContext context) throws Exception {
        var directory = context.getPropertiesComponent().resolveProperty("portal.dev.routes-reload-directory");
        if (directory.isPresent() && !directory.get().isBlank()) {
            context.addService(new RouteFileReloader(context, Path.of(directory.get().trim())));
        }
    }
}
