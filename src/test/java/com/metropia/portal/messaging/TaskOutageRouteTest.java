package com.metropia.portal.messaging;

import java.net.ConnectException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.mongodb.client.MongoCollection;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.NotifyBuilder;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.model.Message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A task the sender could not give SQS (an outage: here the sender's SQS endpoint, advised to fail as an unreachable
 * SQS does) is kept in MongoDB, and the redrive route, whose SQS endpoint is real, sends it on its next pass with the
 * same body and a taskId attribute.
 */
class TaskOutageRouteTest extends RouteTestSupport {

    @Override
    protected Map<String, String> properties() {
        return Map.of("portal.tasks.redrive-period-ms", "200");
    }

    @Override
    public boolean isUseAdviceWith() {
        return true;
    }

    @Test
    void should_keep_a_task_sqs_did_not_take_and_redrive_it_with_its_body_and_task_id() throws Exception {
        AdviceWith.adviceWith(context, "task-to-sqs", false, advice -> advice.weaveByToUri(SQS).replace()
                .throwException(SdkClientException.builder().message("Unable to execute HTTP request (by the test)")
                        .cause(new ConnectException("Connection refused")).build()));
        NotifyBuilder redriven = new NotifyBuilder(context).fromRoute("task-redrive").wereSentTo(SQS).whenDone(1)
                .create();
        context.start();

        Map<?, ?> reply = template.requestBody("direct:task", "{\"action\":\"send_email\",\"data\":{\"to\":\"a@b.c\"}}",
                Map.class);

        assertThat(reply.get("fallback")).as("fallback in the reply of a task SQS did not take: %s", reply)
                .isEqualTo(true);
        assertThat(redriven.matches(30, TimeUnit.SECONDS)).as("the redrive route sent a task to SQS").isTrue();
        Message message = receiveAll(1).stream().findFirst().orElse(null);
        assertThat(message).as("the redriven message in the queue").isNotNull();
        assertThat(message.body()).as("body of the redriven message")
                .isEqualTo("{\"action\":\"send_email\",\"data\":{\"to\":\"a@b.c\"}}");
        MongoCollection<Document> fallback = mongo.getDatabase(database).getCollection("send_task_fallback");
        await().atMost(Duration.ofSeconds(10)).alias("the fallback collection is emptied once SQS acknowledged the task")
                .until(() -> fallback.countDocuments() == 0);
        assertThat(message.messageAttributes()).as("message attributes of the redriven message")
                .containsOnlyKeys("taskId");
    }
}
