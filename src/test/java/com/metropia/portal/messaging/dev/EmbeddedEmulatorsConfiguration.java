package com.metropia.portal.messaging.dev;

import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the emulators before the portal configuration connects to them, on the ports of the {@code portal.dev.*}
 * properties, points the service at them, creates the queue, and says how to look inside with the usual tools.
 */
public class EmbeddedEmulatorsConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedEmulatorsConfiguration.class);

    @Override
    public void configure(CamelContext context) throws Exception {
        PropertiesComponent properties = context.getPropertiesComponent();
        String host = properties.resolveProperty("portal.dev.host").orElse("127.0.0.1");
        int sqsPort = Integer.parseInt(properties.resolveProperty("portal.dev.sqs-port").orElse("9324"));
        int mongoPort = Integer.parseInt(properties.resolveProperty("portal.dev.mongodb-port").orElse("27017"));
        String queue = properties.resolveProperty("portal.sqs.queue").orElse("portal-tasks");
        String database = properties.resolveProperty("portal.mongodb.database").orElse("portal");
        String collection = properties.resolveProperty("portal.mongodb.collection").orElse("send_event");

        EmbeddedEmulators emulators = EmbeddedEmulators.start(host, sqsPort, mongoPort);
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                emulators.close();
            }
        });
        properties.addOverrideProperty("portal.sqs.endpoint", emulators.sqsEndpoint());
        properties.addOverrideProperty("portal.mongodb.uri", emulators.mongoUri());
        String queueUrl = emulators.createQueue(queue);
        LOG.info("""

                Embedded SQS (ElasticMQ) at {} with queue {}
                  aws --endpoint-url {} --region {} sqs receive-message --queue-url {}
                  (any credentials do, e.g. AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={})
                Embedded MongoDB (mongo-java-server, in memory) at {}
                  mongosh {}/{} --eval 'db.{}.find()'
                """, emulators.sqsEndpoint(), queue, emulators.sqsEndpoint(), EmbeddedEmulators.REGION, queueUrl,
                EmbeddedEmulators.ACCESS_KEY, EmbeddedEmulators.SECRET_KEY, emulators.mongoUri(), emulators.mongoUri(),
                database, collection);
    }
}
