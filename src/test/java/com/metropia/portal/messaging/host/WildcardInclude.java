package com.metropia.portal.messaging.host;

import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;

/**
 * A host application that loads a route file of the project as a wildcard include would, run in a class loader the
 * test chooses (one without the HTTP modules): what does the host see?
 */
public final class WildcardInclude {

    private WildcardInclude() {
    }

    /** Loads and starts the route file; the failure's messages, outermost first, or "" when it loaded. */
    public static String failureOf(String location) {
        try (CamelContext context = new DefaultCamelContext()) {
            PluginHelper.getRoutesLoader(context).loadRoutes(PluginHelper.getResourceLoader(context).resolveResource(location));
            context.start();
            return "";
        } catch (Throwable failure) {
            StringBuilder messages = new StringBuilder();
            for (Throwable t = failure; t != null; t = t.getCause()) {
                messages.append(t.getClass().getName()).append(": ").append(t.getMessage()).append("\n");
            }
            return messages.toString();
        }
    }
}
