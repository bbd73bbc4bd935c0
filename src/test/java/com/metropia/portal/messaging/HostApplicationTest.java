package com.metropia.portal.messaging;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.Main;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An existing camel-main application that embeds the routes the way the README says: the packed YAML by include
 * pattern, the configuration class, its own properties and its own client beans.
 */
class HostApplicationTest {

    private final EmbeddedEmulators emulators = SharedEmulators.get();

    @Test
    void should_queue_tasks_and_store_events_with_the_host_applications_own_clients() throws Exception {
        String queueUrl = emulators.createQueue("host-app");
        try (SqsClient hostSqs = emulators.newSqsClient();
             MongoClient hostMongo = MongoClients.create(emulators.mongoUri())) {
            Main host = new Main();
            host.bind("hostSqsClient", hostSqs);
            host.bind("hostMongoClient", hostMongo);
            host.addInitialProperty("camel.main.name", "host-application");
            host.addInitialProperty("camel.main.routes-include-pattern",
                    "classpath:portal-messaging/routes/tasks.camel.yaml,classpath:portal-messaging/routes/events.camel.yaml");
            host.addInitialProperty("camel.main.configuration-classes", PortalConfiguration.class.getName());
            host.addInitialProperty("portal.sqs.queue-url", queueUrl);
            host.addInitialProperty("portal.mongodb.database", "host_app");
            host.start();
            try {
                assertThat(host.getCamelContext().getRegistry().lookupByName("portalSqsClient")).isNull();
                assertThat(host.getCamelContext().getRegistry().lookupByName("portalMongoClient")).isNull();
                ProducerTemplate template = host.getCamelContext().createProducerTemplate();

                Map<?, ?> task = template.requestBody("direct:task",
                        Map.of("action", "book_ride", "data", Map.of("user_id", 12345)), Map.class);
                List<Map<String, Object>> events = new ArrayList<>();
                for (int i = 0; i < 501; i++) {
                    events.add(Map.of("userIds", List.of(String.valueOf(i)), "eventName", "trip_completed",
                            "eventMeta", Map.of("seq", i)));
                }
                Map<?, ?> stored = template.requestBody("direct:events", events, Map.class);

                List<Message> messages = hostSqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(2)).messages();
                assertThat(messages).singleElement().satisfies(message -> {
                    assertThat(message.messageId()).isEqualTo(task.get("messageId"));
                    assertThat(message.body()).isEqualTo("{\"action\":\"book_ride\",\"data\":{\"user_id\":12345}}");
                });
                List<Document> documents = hostMongo.getDatabase("host_app").getCollection("send_event").find()
                        .into(new ArrayList<>());
                assertThat(stored.get("documents")).isEqualTo(2);
                assertThat(documents).extracting(d -> d.getList("data", Object.class).size())
                        .containsExactlyInAnyOrder(500, 1);
                assertThat(documents).allSatisfy(d -> assertThat(d.getString("action")).isEqualTo("event"));
            } finally {
                host.stop();
            }
        }
    }
}
