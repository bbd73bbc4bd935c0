package com.metropia.portal.messaging;

import java.util.List;
import java.util.Map;

import org.apache.camel.component.mock.MockEndpoint;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The route test of the README ("Editing routes"): copy it under a name of your own and make it test your edit. */
class ExampleRouteTest extends RouteTestSupport {

    /** Settings on top of application.properties: here worked example 1, batches of 200. */
    @Override
    protected Map<String, String> properties() {
        return Map.of("portal.events.batch-size", "200");
    }

    /** The routes are advised first; each test then starts the context. */
    @Override
    public boolean isUseAdviceWith() {
        return true;
    }

    @Test
    void should_store_450_events_as_documents_of_200_200_50() throws Exception {
        MockEndpoint inserted = copiesSentTo(MONGODB);
        inserted.expectedMessageCount(3);
        context.start();

        Map<?, ?> reply = template.requestBody("direct:events", events(450, "example"), Map.class);

        assertThat(reply.get("documents")).as("documents in the reply").isEqualTo(3);
        inserted.assertIsSatisfied();
        List<Document> stored = storedDocuments();
        assertThat(stored).as("events per document in MongoDB").extracting(d -> d.getList("data", Object.class).size())
                .containsExactly(200, 200, 50);
        assertThat(stored.get(0).getString("action")).as("action of the first document").isEqualTo("event");
    }

    @Test
    void should_queue_one_task_as_action_and_data() throws Exception {
        MockEndpoint sent = copiesSentTo(SQS);
        sent.expectedMessageCount(1);
        context.start();

        template.requestBody("direct:task", "{\"action\": \"send_email\", \"data\": {\"to\": \"a@example.com\"}}");

        sent.assertIsSatisfied();
        assertThat(receiveAll(1)).as("messages in the queue").singleElement()
                .satisfies(message -> assertThat(message.body())
                        .isEqualTo("{\"action\":\"send_email\",\"data\":{\"to\":\"a@example.com\"}}"));
    }
}
