package com.metropia.portal.messaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.metropia.portal.messaging.config.PortalDefaults;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A camel-main application that includes the task and event routes and sets no {@code portal.*} setting at all (only
 * its own SQS and MongoDB clients): it gets the defaults the README documents, and the routes use them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostDefaultsTest {

    private final EmbeddedEmulators emulators = SharedEmulators.get();
    private SqsClient sqs;
    private MongoClient mongo;
    private String queueUrl;
    private Main host;

    @BeforeAll
    void startHost() {
        // the queue of the default name, which the host's routes look up (portal.sqs.queue)
        queueUrl = emulators.createQueue(PortalDefaults.of("portal.sqs.queue"));
        sqs = emulators.newSqsClient();
        mongo = MongoClients.create(emulators.mongoUri());
        host = new Main();
        host.bind("hostSqsClient", sqs);
        host.bind("hostMongoClient", mongo);
        host.addInitialProperty("camel.main.name", "host-without-portal-settings");
        host.addInitialProperty("camel.main.routes-include-pattern",
                "classpath:portal-messaging/routes/tasks.camel.yaml,classpath:portal-messaging/routes/events.camel.yaml");
        host.start();
    }

    @AfterAll
    void stopHost() {
        if (host != null) {
            host.stop();
        }
        sqs.close();
        mongo.close();
    }

    @Test
    void should_resolve_every_setting_to_the_default_the_readme_documents() throws IOException {
        Map<String, String> documented = readmeDefaults();
        CamelContext context = host.getCamelContext();

        documented.forEach((key, value) -> assertThat(context.resolvePropertyPlaceholders("{{" + key + "}}"))
                .as(key).isEqualTo(value));
        // and the README documents every portal.* default of the jar
        PortalDefaults.all().keySet().stream().filter(key -> key.startsWith("portal."))
                .forEach(key -> assertThat(documented).as("README's Configuration table").containsKey(key));
    }

    @Test
    void should_store_events_in_database_portal_collection_send_event() {
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            events.add(Map.of("userIds", List.of(String.valueOf(i)), "eventName", "trip_completed",
                    "eventMeta", Map.of("seq", i)));
        }

        Map<?, ?> stored = host.getCamelContext().createProducerTemplate().requestBody("direct:events", events, Map.class);

        assertThat(stored.get("documents")).isEqualTo(1);
        Object id = ((List<?>) stored.get("ids")).get(0);
        Document document = mongo.getDatabase("portal").getCollection("send_event")
                .find(new Document("_id", new ObjectId(String.valueOf(id)))).first();
        assertThat(document).isNotNull();
        assertThat(document.getList("data", Object.class)).hasSize(3);
    }

    @Test
    void should_queue_a_task_on_queue_portal_tasks() {
        Map<?, ?> task = host.getCamelContext().createProducerTemplate().requestBody("direct:task",
                Map.of("action", "book_ride", "data", Map.of("user_id", 7)), Map.class);

        // the queue may hold other runs' tasks: look for this one
        List<Message> received = new ArrayList<>();
        for (int i = 0; i < 10 && received.stream().noneMatch(m -> m.messageId().equals(task.get("messageId"))); i++) {
            received.addAll(sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(1))
                    .messages());
        }
        assertThat(received).filteredOn(m -> m.messageId().equals(task.get("messageId"))).singleElement()
                .satisfies(m -> assertThat(m.body()).isEqualTo("{\"action\":\"book_ride\",\"data\":{\"user_id\":7}}"));
    }

    @Test
    void should_leave_an_application_its_own_initial_properties_and_its_camel_settings() throws Exception {
        try (org.apache.camel.impl.DefaultCamelContext context = new org.apache.camel.impl.DefaultCamelContext()) {
            context.getPropertiesComponent().addInitialProperty("portal.mongodb.database", "from_the_application");

            PortalDefaults.addTo(context.getPropertiesComponent());

            assertThat(context.resolvePropertyPlaceholders("{{portal.mongodb.database}}")).isEqualTo("from_the_application");
            assertThat(context.resolvePropertyPlaceholders("{{portal.mongodb.collection}}")).isEqualTo("send_event");
            assertThat(context.getPropertiesComponent().resolveProperty("camel.server.enabled")).isEmpty();
        }
    }

    @Test
    void should_show_in_application_properties_the_defaults_of_the_jar() throws IOException {
        // a line "# key = value" in application.properties shows a default: it must be the one the service uses
        Pattern shown = Pattern.compile("^# ([a-z][a-z0-9.-]+) = (.*)$");
        List<String> checked = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("application.properties"))) {
            Matcher matcher = shown.matcher(line);
            if (matcher.matches() && PortalDefaults.of(matcher.group(1)) != null) {
                assertThat(matcher.group(2).trim()).as(matcher.group(1)).isEqualTo(PortalDefaults.of(matcher.group(1)));
                checked.add(matcher.group(1));
            }
        }
        // and it shows every portal.* default
        assertThat(checked).containsAll(PortalDefaults.all().keySet().stream().filter(k -> k.startsWith("portal.")).toList());
    }

    /** The portal.* rows of README's Configuration table that give a default: `a`, `b` | `1`, `2` | ... */
    private static Map<String, String> readmeDefaults() throws IOException {
        Map<String, String> defaults = new LinkedHashMap<>();
        Pattern code = Pattern.compile("`([^`]*)`");
        for (String line : Files.readAllLines(Path.of("README.md"))) {
            String[] cells = line.split("\\|");
            if (cells.length < 4 || !cells[1].trim().startsWith("`portal.")) {
                continue;
            }
            List<String> keys = all(code.matcher(cells[1]));
            List<String> values = all(code.matcher(cells[2]));
            if (keys.size() == values.size()) {
                for (int i = 0; i < keys.size(); i++) {
                    defaults.put(keys.get(i), values.get(i));
                }
            }
        }
        return defaults;
    }

    private static List<String> all(Matcher matcher) {
        List<String> found = new ArrayList<>();
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }
}
