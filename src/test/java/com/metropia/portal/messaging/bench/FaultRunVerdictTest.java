package com.metropia.portal.messaging.bench;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.metropia.portal.messaging.bench.FaultRunVerdict.Observed;
import com.metropia.portal.messaging.bench.FaultRunVerdict.QueuedMessage;
import com.metropia.portal.messaging.bench.FaultRunVerdict.SentEvents;
import com.metropia.portal.messaging.bench.FaultRunVerdict.SentTask;
import org.junit.jupiter.api.Test;

import static com.metropia.portal.messaging.bench.FaultRunVerdict.md5Hex;
import static com.metropia.portal.messaging.bench.FaultRunVerdict.sha256Hex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fault run's verdict over inputs made by hand: each way a run can fail to show a success as it really is fails
 * it, with its reason; copies a consumer can drop pass on a standard queue only.
 */
class FaultRunVerdictTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Three tasks, each acknowledged with the id of its message, and each message once in SQS with its taskId. */
    private final List<SentTask> tasks = new ArrayList<>(List.of(queued(0), queued(1), queued(2)));
    private final List<QueuedMessage> queue = new ArrayList<>(List.of(message(0), message(1), message(2)));
    private final List<String> fallbackLeft = new ArrayList<>();
    private long queueLeft;
    /** One request of two events, acknowledged, both stored. */
    private final List<SentEvents> events = new ArrayList<>(List.of(new SentEvents(0, List.of(event(0), event(1)),
            true)));
    private final List<JsonNode> storedEvents = new ArrayList<>(List.of(event(0), event(1)));

    @Test
    void should_pass_when_every_item_is_found_once_as_sent() {
        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.failures).isEmpty();
        assertThat(verdict.passed()).isTrue();
        assertThat(verdict.tasks.acknowledged()).isEqualTo(3);
        assertThat(verdict.tasks.inSqs()).isEqualTo(3);
        assertThat(verdict.tasks.taskIdFromKey()).isEqualTo(3);
        assertThat(verdict.events.foundItems()).isEqualTo(2);
    }

    @Test
    void should_pass_on_a_standard_queue_when_every_copy_of_a_task_carries_the_same_taskId() {
        queue.add(new QueuedMessage("copy-of-1", body(1), taskId(1)));
        queue.add(new QueuedMessage("another-copy-of-1", body(1), taskId(1)));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.failures).isEmpty();
        assertThat(verdict.tasks.duplicated()).isEqualTo(1);
        assertThat(verdict.tasks.droppable()).isEqualTo(1);
        assertThat(verdict.tasks.notDroppable()).isZero();
        assertThat(verdict.tasks.extraCopies()).isEqualTo(2);
        assertThat(verdict.taskExamples).containsKey("in SQS more than once, copies a consumer can drop (same taskId)");
    }

    @Test
    void should_fail_on_a_standard_queue_when_a_copy_carries_no_taskId() {
        queue.add(new QueuedMessage("copy-of-1", body(1), null));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.passed()).isFalse();
        assertThat(verdict.tasks.notDroppable()).isEqualTo(1);
        assertThat(verdict.tasks.withoutTaskId()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString().contains("1 tasks are in SQS more than once",
                "cannot drop");
    }

    @Test
    void should_fail_on_a_standard_queue_when_the_copies_carry_different_taskIds() {
        queue.add(new QueuedMessage("copy-of-1", body(1), "another-id"));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.notDroppable()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString().contains("cannot drop");
    }

    @Test
    void should_fail_on_a_fifo_queue_for_any_copy_even_one_a_consumer_could_drop() {
        queue.add(new QueuedMessage("copy-of-1", body(1), taskId(1)));

        FaultRunVerdict verdict = judge(true);

        assertThat(verdict.tasks.droppable()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString().contains("FIFO queue more than once");
    }

    @Test
    void should_fail_when_one_taskId_is_carried_by_two_different_tasks() {
        queue.set(2, new QueuedMessage("m2", body(2), taskId(1)));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.sharedTaskIds()).isEqualTo(1);
        assertThat(verdict.taskExamples.get("sharing a taskId with another task")).containsExactly(1, 2);
        assertThat(verdict.failures).singleElement().asString().contains("different tasks");
    }

    @Test
    void should_fail_when_an_acknowledged_task_is_in_neither_sqs_nor_the_fallback() {
        queue.remove(2);

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.lost()).isEqualTo(1);
        assertThat(verdict.failures).anySatisfy(reason -> assertThat(reason).contains("1 acknowledged tasks are lost"));
    }

    @Test
    void should_fail_when_the_fallback_collection_still_holds_tasks() {
        // Task 2 was acknowledged as kept; the redrive never sent it.
        tasks.set(2, new SentTask(2, key(2), body(2), true, true, null, null));
        queue.remove(2);
        fallbackLeft.add(body(2));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.lost()).isZero();
        assertThat(verdict.tasks.inFallback()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString()
                .contains("fallback collection was not drained: 1 documents left");
    }

    @Test
    void should_fail_when_requests_are_still_without_a_2xx_at_the_deadline_even_if_they_landed() {
        tasks.set(0, new SentTask(0, key(0), body(0), false, false, null, null));
        events.set(0, new SentEvents(0, List.of(event(0), event(1)), false));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.unacknowledged()).isEqualTo(1);
        assertThat(verdict.tasks.unacknowledgedFound()).isEqualTo(1);
        assertThat(verdict.events.unacknowledgedRequests()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString()
                .isEqualTo("requests still without a 2xx at the deadline: 1 of tasks, 1 of events");
    }

    @Test
    void should_fail_when_an_acknowledged_messageId_is_not_in_sqs() {
        tasks.set(0, new SentTask(0, key(0), body(0), true, false, "no-such-message", md5Hex(body(0))));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.lost()).isZero();
        assertThat(verdict.tasks.messageIdNotInSqs()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString().contains("messageId that is not in SQS");
    }

    @Test
    void should_fail_when_an_acknowledged_messageId_is_another_tasks_message_or_missing() {
        tasks.set(0, new SentTask(0, key(0), body(0), true, false, "m1", md5Hex(body(0))));
        tasks.set(2, new SentTask(2, key(2), body(2), true, false, null, null));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.messageIdNotInSqs()).isEqualTo(2);
        assertThat(verdict.taskExamples.get("acknowledged with a messageId that is not in SQS as this task"))
                .containsExactly(0, 2);
    }

    @Test
    void should_fail_when_the_acknowledged_md5OfBody_is_not_the_md5_of_the_body_sent() {
        tasks.set(1, new SentTask(1, key(1), body(1), true, false, "m1", md5Hex(body(2))));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.md5Differs()).isEqualTo(1);
        assertThat(verdict.failures).singleElement().asString().contains("md5OfBody");
    }

    @Test
    void should_fail_when_a_message_body_differs_from_what_was_sent() {
        // Same task, same taskId, the data re-encoded on the way: a consumer would act on other data.
        queue.set(1, new QueuedMessage("m1", "{\"action\":\"fault_run\",\"data\":{\"n\":1,\"run\":\"r\"}}",
                taskId(1)));
        queue.add(new QueuedMessage("garbage", "{\"action\":null,\"data\":null}", null));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.tasks.bodiesDiffer()).isEqualTo(2);
        assertThat(verdict.taskExamples.get("with a body that differs from what was sent")).containsExactly(-1, 1);
        // the task is not in SQS as it was sent: lost, and its messageId does not hold it
        assertThat(verdict.tasks.lost()).isEqualTo(1);
        assertThat(verdict.failures).anySatisfy(reason -> assertThat(reason)
                .contains("2 messages in SQS have a body that is not one that was sent"));
    }

    @Test
    void should_fail_when_the_queue_was_not_read_to_the_end() {
        queueLeft = 4;

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.failures).singleElement().asString().contains("SQS still held 4 messages");
    }

    @Test
    void should_fail_when_events_are_lost_stored_twice_or_stored_otherwise_than_sent() {
        storedEvents.clear();
        storedEvents.add(event(0));
        storedEvents.add(event(0));
        storedEvents.add(json("{\"userIds\":[\"someone else\"],\"eventName\":\"fault_run\","
                              + "\"eventMeta\":{\"run\":\"r\",\"n\":1}}"));

        FaultRunVerdict verdict = judge(false);

        assertThat(verdict.events.lost()).isEqualTo(1);
        assertThat(verdict.events.duplicated()).isEqualTo(1);
        assertThat(verdict.events.differ()).isEqualTo(1);
        assertThat(verdict.failures).containsExactly("1 acknowledged events are lost: not in send_event",
                "1 events are in send_event more than once (1 extra copies)",
                "1 events in send_event differ from what was sent");
    }

    @Test
    void should_take_a_stored_number_as_the_same_value_whatever_its_width() {
        storedEvents.set(1, json("{\"userIds\":[\"u1\"],\"eventName\":\"fault_run\","
                                 + "\"eventMeta\":{\"run\":\"r\",\"n\":1.0}}"));

        assertThat(judge(false).failures).isEmpty();
    }

    private FaultRunVerdict judge(boolean fifo) {
        return FaultRunVerdict.judge(fifo, tasks, events, new Observed(queue, queueLeft, fallbackLeft,
                storedEvents));
    }

    private static SentTask queued(int n) {
        return new SentTask(n, key(n), body(n), true, false, "m" + n, md5Hex(body(n)));
    }

    private static QueuedMessage message(int n) {
        return new QueuedMessage("m" + n, body(n), taskId(n));
    }

    private static String key(int n) {
        return "key-" + n;
    }

    private static String taskId(int n) {
        return sha256Hex(key(n));
    }

    private static String body(int n) {
        return "{\"action\":\"fault_run\",\"data\":{\"run\":\"r\",\"n\":" + n + "}}";
    }

    private static JsonNode event(int n) {
        return json("{\"userIds\":[\"u" + n + "\"],\"eventName\":\"fault_run\",\"eventMeta\":{\"run\":\"r\",\"n\":"
                    + n + "}}");
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
