package com.metropia.portal.messaging;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Boots the real service once per test class against the shared emulators, with a queue and a database of the class's
 * own, and gives the tests the clients a user would use: java.net.http, the AWS SDK and the MongoDB driver.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PortalTestSupport {

    protected static final ObjectMapper JSON = new ObjectMapper();

    protected final EmbeddedEmulators emulators = SharedEmulators.get();
    protected final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    protected PortalService service;
    protected SqsClient sqs;
    protected MongoClient mongo;
    protected String queueUrl;
    protected String database;

    /** Properties a test class overrides on top of those that point the service at the emulators. */
    protected Map<String, String> extraProperties() {
        return Map.of();
    }

    /** Camel configuration classes run before the service's own: a test's own clients, for instance. */
    protected Class<?>[] configurationsFirst() {
        return new Class<?>[0];
    }

    /** The class's own queue; a name ending in .fifo makes a FIFO queue. */
    protected String queueName() {
        return getClass().getSimpleName().toLowerCase();
    }

    @BeforeAll
    void startService() {
        queueUrl = emulators.createQueue(queueName());
        database = "portal_" + getClass().getSimpleName().toLowerCase();
        sqs = emulators.newSqsClient();
        mongo = MongoClients.create(emulators.mongoUri());
        Map<String, String> properties = PortalService.emulatorProperties(emulators, queueUrl, database);
        properties.putAll(extraProperties());
        service = PortalService.start(properties, configurationsFirst());
    }

    @AfterAll
    void stopService() {
        if (service != null) {
            service.close();
        }
        if (sqs != null) {
            sqs.close();
        }
        if (mongo != null) {
            mongo.close();
        }
    }

    @BeforeEach
    void emptyQueueAndCollection() {
        sqs.purgeQueue(b -> b.queueUrl(queueUrl));
        sendEvent().drop();
    }

    protected MongoCollection<Document> sendEvent() {
        return mongo.getDatabase(database).getCollection("send_event");
    }

    /** The send_event documents in insertion order. */
    protected List<Document> storedDocuments() {
        return sendEvent().find().sort(new Document("created_at", 1).append("_id", 1)).into(new ArrayList<>());
    }

    protected HttpResponse<String> post(String path, String contentType, String body) throws IOException,
            InterruptedException {
        return send(service.request(path)
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    protected HttpResponse<String> postJson(String path, String body) throws IOException, InterruptedException {
        return post(path, "application/json", body);
    }

    protected HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    protected static JsonNode json(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body());
    }

    protected static URI uri(String text) {
        return URI.create(text);
    }

    /** Every message now in the queue, received with all their attributes (and left in flight). */
    protected List<Message> receiveAll(int expected) {
        return receiveAll(expected, Duration.ofSeconds(10));
    }

    /** What arrives within the time given, or sooner once the expected number is in. */
    protected List<Message> receiveAll(int expected, Duration within) {
        return receive(sqs, queueUrl, expected, within);
    }

    /** What arrives in a queue within the time given, with all attributes (and left in flight). */
    static List<Message> receive(SqsClient sqs, String queueUrl, int expected, Duration within) {
        List<Message> messages = new ArrayList<>();
        long deadline = System.nanoTime() + within.toNanos();
        while (messages.size() < expected && System.nanoTime() < deadline) {
            messages.addAll(sqs.receiveMessage(b -> b.queueUrl(queueUrl)
                    .maxNumberOfMessages(10)
                    .waitTimeSeconds(1)
                    .messageAttributeNames("All")
                    .messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages());
        }
        return messages;
    }

    /** {@code count} events whose eventMeta says which request and position they come from. */
    protected static String events(int count, String request) {
        StringBuilder body = new StringBuilder("[");
        for (int i = 0; i < count; i++) {
            body.append(i == 0 ? "" : ",")
                    .append("{\"userIds\":[\"u").append(i).append("\"],\"eventName\":\"trip_completed\",")
                    .append("\"eventMeta\":{\"request\":\"").append(request).append("\",\"seq\":").append(i).append("}}");
        }
        return body.append(']').toString();
    }
}
