package com.metropia.portal.messaging;

import com.metropia.portal.messaging.config.PortalConfiguration;
import com.metropia.portal.messaging.config.PortalDefaults;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.support.LifecycleStrategySupport;

/**
 * Declared in the {@code beans} entry of the route files, so that an application that only includes the routes gets
 * the beans and clients they use ({@link PortalConfiguration#install(CamelContext)}).
 * <p>
 * Camel creates such beans while it reads the route files, before the application's configuration classes have bound
 * their beans (and before the embedded run has started its emulators): the installation waits until the context
 * initializes, so that an application's own {@code SqsClient} or {@code MongoClient} is seen and wins.
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
        // now, while the route files are read: the routes' {{portal.*}} placeholders resolve to the defaults unless
        // the application sets them
        PortalDefaults.addTo(context.getPropertiesComponent());
        if (context.isStarted() || context.isStarting()) {
            install(context);
            return;
        }
        context.addLifecycleStrategy(new LifecycleStrategySupport() {
            @Override
            public void onContextInitializing(CamelContext initializing) {
                install(initializing);
            }

            @Override
            public void onContextStarting(CamelContext starting) {
                install(starting);
            }
        });
    }

    private static void install(CamelContext context) {
        try {
            PortalConfiguration.install(context);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new RuntimeCamelException(e);
        }
    }
}
