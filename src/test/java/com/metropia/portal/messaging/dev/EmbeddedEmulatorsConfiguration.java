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
        // one log line each: the service's layout writes a line break inside a message as \n
        String banner = """
                Embedded SQS (ElasticMQ) at %s with queue %s
                  aws --endpoint-url %s --region %s sqs receive-message --queue-url %s
                  (any credentials do, e.g. AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s)
                Embedded MongoDB (mongo-java-server, in memory) at %s
                  mongosh %s/%s --eval 'db.%s.find()'""".formatted(emulators.sqsEndpoint(), queue,
                emulators.sqsEndpoint(), EmbeddedEmulators.REGION, queueUrl, EmbeddedEmulators.ACCESS_KEY,
                EmbeddedEmulators.SECRET_KEY, emulators.mongoUri(), emulators.mongoUri(), database, collection);
        banner.lines().forEach(LOG::info);
    }
}
