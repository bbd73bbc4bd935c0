package com.metropia.portal.messaging;

import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulatorsConfiguration;
import com.metropia.portal.messaging.dev.RouteReloadConfiguration;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import org.apache.camel.main.Main;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The README's run command as it boots: profile "embedded", the emulators started by the configuration, the service
 * pointed at them (here on free ports, as the default ones may be taken).
 */
class EmbeddedRunTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The key of the profile, as the README's curl lines send it. */
    private static final String DEV_KEY = "local-dev-key";

    @Test
    void should_start_the_emulators_and_serve_tasks_and_events_on_them() throws Exception {
        Main main = PortalMessagingApplication.createMain(EmbeddedEmulatorsConfiguration.class,
                RouteReloadConfiguration.class);
        main.configure().setProfile("embedded");
        main.addOverrideProperty("portal.dev.sqs-port", "0");
        main.addOverrideProperty("portal.dev.mongodb-port", "0");
        main.addOverrideProperty("portal.http.port", String.valueOf(PortalService.freePort()));
        main.start();
        try {
            var properties = main.getCamelContext().getPropertiesComponent();
            String base = "http://127.0.0.1:" + properties.resolveProperty("portal.http.port").orElseThrow();
            HttpClient http = HttpClient.newHttpClient();

            HttpResponse<String> task = http.send(HttpRequest.newBuilder(URI.create(base + "/api/tasks"))
                    .header("X-API-Key", DEV_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"action\":\"a\",\"data\":{\"n\":1}}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> events = http.send(HttpRequest.newBuilder(URI.create(base + "/api/events"))
                    .header("X-API-Key", DEV_KEY)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "[{\"userIds\":[\"1\"],\"eventName\":\"trip_completed\",\"eventMeta\":{}}]")).build(),
                    HttpResponse.BodyHandlers.ofString());

            // the README publishes this run's key: it answers this machine only
            assertThat(properties.resolveProperty("camel.server.host")).hasValue("127.0.0.1");
            for (InetAddress address : nonLoopbackAddresses()) {
                assertThatThrownBy(() -> new Socket(address, Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)))
                        .close()).as("reached on " + address).isInstanceOf(ConnectException.class);
            }
            assertThat(task.statusCode()).as(task.body()).isEqualTo(202);
            assertThat(events.statusCode()).as(events.body()).isEqualTo(201);
            String sqsEndpoint = properties.resolveProperty("portal.sqs.endpoint").orElseThrow();
            try (SqsClient sqs = SqsClient.builder().endpointOverride(URI.create(sqsEndpoint)).region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build()) {
                String queueUrl = sqs.getQueueUrl(b -> b.queueName("portal-tasks")).queueUrl();
                List<Message> messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(2)).messages();
                assertThat(messages).singleElement().extracting(Message::body)
                        .isEqualTo("{\"action\":\"a\",\"data\":{\"n\":1}}");
            }
            JsonNode reply = JSON.readTree(events.body());
            try (MongoClient mongo = MongoClients.create(properties.resolveProperty("portal.mongodb.uri").orElseThrow())) {
                List<Document> stored = mongo.getDatabase("portal").getCollection("send_event").find()
                        .into(new ArrayList<>());
                assertThat(stored).singleElement().satisfies(document ->
                        assertThat(document.getObjectId("_id").toHexString()).isEqualTo(reply.get("ids").get(0).asText()));
            }
        } finally {
            main.stop();
        }
    }

    /** The IPv4 addresses of this machine's other interfaces, where the embedded run must not be reachable. */
    private static List<InetAddress> nonLoopbackAddresses() throws Exception {
        List<InetAddress> addresses = new ArrayList<>();
        for (NetworkInterface network : java.util.Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (network.isUp() && !network.isLoopback()) {
                network.inetAddresses().filter(Inet4Address.class::isInstance).forEach(addresses::add);
            }
        }
        return addresses;
    }
}
