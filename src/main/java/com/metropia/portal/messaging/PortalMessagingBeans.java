package com.metropia.portal.messaging;

import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.RuntimeCamelException;

/**
 * Declared in the {@code beans} entry of the route files, so that an application that only includes the routes gets
 * the beans and clients they use (see {@link PortalConfiguration#install(CamelContext)}).
 */
public class PortalMessagingBeans implements CamelContextAware {

    private CamelContext context;

    @Override
    public CamelContext getCamelContext() {
        return context;
    }

    @Override
    public void setCamelContext(CamelContext context) {
        this.context = context;
        try {
            PortalConfiguration.install(context);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new RuntimeCamelException(e);
        }
    }
}
