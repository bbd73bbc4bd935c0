package com.metropia.portal.messaging.bench;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a fault run came to, judged from what the clients sent and were answered and what was read back afterwards; no
 * I/O, so that each way of failing can be shown with inputs made by hand.
 * <p>
 * A run passes only when it can see every success as it really is. It fails when an acknowledged item is lost; when a
 * task is in SQS more than once and a consumer cannot drop the copy (on a FIFO queue: any copy at all); when a request
 * is still without a 2xx at the deadline; when the fallback collection still holds tasks after the wait; when an
 * acknowledged {@code messageId} is not a message of that task in SQS, or the reply's {@code md5OfBody} is not the MD5
 * of the body sent; when a message or a stored event differs from what was sent; when a {@code taskId} is carried by
 * two different tasks (a consumer would drop a task that is no copy); or when the queue could not be read to the end.
 * <p>
 * A consumer can drop the copies of a task when every copy carries the same message attribute {@code taskId}, used by
 * no other task, and the same body. A message without the attribute counts as one whose copies cannot be dropped.
 */
final class FaultRunVerdict {

    /** The SQS message attribute that identifies a task across its resends and redrives. */
    static final String TASK_ID = "taskId";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Numbers compare by value: MongoDB may hand back as a long what was sent as an int. */
    private static final Comparator<JsonNode> SAME_VALUE = (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue());
        }
        return a.equals(b) ? 0 : 1;
    };

    /** One task request: what was sent and what the last answer said (messageId and md5OfBody of a 2xx, or null). */
    record SentTask(int n, String key, String body, boolean acknowledged, boolean fallback, String messageId,
                    String md5OfBody) {
    }

    /** One message read from the queue; {@code taskId} is null when the message has no such attribute. */
    record QueuedMessage(String messageId, String body, String taskId) {
    }

    /** One events request: its events as sent (each carries {@code eventMeta.n}, its item number) and its end. */
    record SentEvents(int firstItem, List<JsonNode> events, boolean acknowledged) {
    }

    /**
     * What was read back: every message of the queue, how many the queue still showed after the reads, the bodies of
     * the documents left in the fallback collection, and the events of the run found in {@code send_event}.
     */
    record Observed(List<QueuedMessage> queue, long queueLeft, List<String> fallbackLeft, List<JsonNode> storedEvents) {
    }

    /** The task figures; "items" are tasks, one a request. */
    record TaskFigures(int requests, int acknowledged, int acknowledgedFallback, int unacknowledged, int foundItems,
                       int inSqs, int inFallback, int lost, int duplicated, int droppable, int notDroppable,
                       int extraCopies, int withoutTaskId, int taskIdFromKey, int sharedTaskIds,
                       int messageIdNotInSqs, int md5Differs, int bodiesDiffer, int unacknowledgedFound,
                       int unacknowledgedMissing) {
    }

    /** The event figures; "items" are events. */
    record EventFigures(int requests, int items, int acknowledgedRequests, int unacknowledgedRequests,
                        int acknowledgedItems, int foundItems, int lost, int duplicated, int extraCopies,
                        int differ, int unacknowledgedFound, int unacknowledgedMissing) {
    }

    final boolean fifo;
    final TaskFigures tasks;
    final EventFigures events;
    /** Why the run failed, one line a reason; empty when it passed. */
    final List<String> failures;
    /** Task numbers behind each task figure that is a problem, for the examples printed with the report. */
    final Map<String, Set<Integer>> taskExamples;
    final Map<String, Set<Integer>> eventExamples;

    private FaultRunVerdict(boolean fifo, TaskFigures tasks, EventFigures events, List<String> failures,
                            Map<String, Set<Integer>> taskExamples, Map<String, Set<Integer>> eventExamples) {
        this.fifo = fifo;
        this.tasks = tasks;
        this.events = events;
        this.failures = List.copyOf(failures);
        this.taskExamples = taskExamples;
        this.eventExamples = eventExamples;
    }

    boolean passed() {
        return failures.isEmpty();
    }

    static FaultRunVerdict judge(boolean fifo, List<SentTask> sentTasks, List<SentEvents> sentEvents,
                                 Observed observed) {
        List<String> failures = new ArrayList<>();
        Map<String, Set<Integer>> taskExamples = new HashMap<>();
        Map<String, Set<Integer>> eventExamples = new HashMap<>();
        TaskFigures tasks = judgeTasks(fifo, sentTasks, observed, failures, taskExamples);
        EventFigures events = judgeEvents(sentEvents, observed.storedEvents(), failures, eventExamples);
        if (tasks.unacknowledged() + events.unacknowledgedRequests() > 0) {
            failures.add(String.format("requests still without a 2xx at the deadline: %d of tasks, %d of events",
                    tasks.unacknowledged(), events.unacknowledgedRequests()));
        }
        return new FaultRunVerdict(fifo, tasks, events, failures, taskExamples, eventExamples);
    }

    private static TaskFigures judgeTasks(boolean fifo, List<SentTask> sent, Observed observed, List<String> failures,
                                          Map<String, Set<Integer>> examples) {
        Map<String, SentTask> byBody = new HashMap<>();
        Map<Integer, SentTask> byNumber = new HashMap<>();
        for (SentTask task : sent) {
            byBody.put(task.body(), task);
            byNumber.put(task.n(), task);
        }
        // Each message is one of the tasks as sent, or a task whose body changed on the way (told by its marker, else
        // by a taskId an intact copy carries), or nothing that was sent.
        Map<Integer, List<QueuedMessage>> intact = new HashMap<>();
        Map<String, Set<Integer>> tasksOfTaskId = new HashMap<>();
        Map<String, QueuedMessage> byMessageId = new HashMap<>();
        List<QueuedMessage> altered = new ArrayList<>();
        for (QueuedMessage message : observed.queue()) {
            byMessageId.put(message.messageId(), message);
            SentTask task = byBody.get(message.body());
            if (task == null) {
                altered.add(message);
                continue;
            }
            intact.computeIfAbsent(task.n(), n -> new ArrayList<>()).add(message);
            if (message.taskId() != null) {
                tasksOfTaskId.computeIfAbsent(message.taskId(), id -> new TreeSet<>()).add(task.n());
            }
        }
        for (QueuedMessage message : altered) {
            Integer n = marker(message.body());
            if (n == null && message.taskId() != null && tasksOfTaskId.containsKey(message.taskId())) {
                n = tasksOfTaskId.get(message.taskId()).iterator().next();
            }
            examples.computeIfAbsent("with a body that differs from what was sent", k -> new TreeSet<>())
                    .add(n != null && byNumber.containsKey(n) ? n : -1);
        }
        Map<Integer, Integer> inFallback = new HashMap<>();
        int fallbackNotSent = 0;
        for (String body : observed.fallbackLeft()) {
            SentTask task = byBody.get(body);
            if (task == null) {
                fallbackNotSent++;
            } else {
                inFallback.merge(task.n(), 1, Integer::sum);
            }
        }

        int acknowledged = 0;
        int acknowledgedFallback = 0;
        int foundItems = 0;
        int inSqs = 0;
        int lost = 0;
        int duplicated = 0;
        int droppable = 0;
        int notDroppable = 0;
        int extraCopies = 0;
        int taskIdFromKey = 0;
        int messageIdNotInSqs = 0;
        int md5Differs = 0;
        int unacknowledgedFound = 0;
        int unacknowledgedMissing = 0;
        for (SentTask task : sent) {
            List<QueuedMessage> copies = intact.getOrDefault(task.n(), List.of());
            int found = copies.size() + inFallback.getOrDefault(task.n(), 0);
            inSqs += copies.size();
            foundItems += found > 0 ? 1 : 0;
            if (task.acknowledged()) {
                acknowledged++;
                if (found == 0) {
                    lost++;
                    add(examples, "lost", task.n());
                }
                if (task.fallback()) {
                    acknowledgedFallback++;
                } else {
                    QueuedMessage message = task.messageId() == null ? null : byMessageId.get(task.messageId());
                    if (message == null || !task.body().equals(message.body())) {
                        messageIdNotInSqs++;
                        add(examples, "acknowledged with a messageId that is not in SQS as this task", task.n());
                    }
                    if (task.md5OfBody() != null && !task.md5OfBody().equals(md5Hex(task.body()))) {
                        md5Differs++;
                        add(examples, "acknowledged with an md5OfBody that is not the MD5 of the body sent", task.n());
                    }
                }
            } else {
                unacknowledgedFound += found > 0 ? 1 : 0;
                unacknowledgedMissing += found > 0 ? 0 : 1;
                add(examples, "without a 2xx at the deadline", task.n());
            }
            if (!copies.isEmpty() && copies.get(0).taskId() != null
                && copies.get(0).taskId().equals(sha256Hex(task.key()))) {
                taskIdFromKey++;
            }
            if (copies.size() > 1) {
                duplicated++;
                extraCopies += copies.size() - 1;
                String taskId = copies.get(0).taskId();
                boolean canDrop = taskId != null
                                  && copies.stream().allMatch(copy -> taskId.equals(copy.taskId()))
                                  && tasksOfTaskId.get(taskId).size() == 1;
                if (canDrop) {
                    droppable++;
                    add(examples, "in SQS more than once, copies a consumer can drop (same taskId)", task.n());
                } else {
                    notDroppable++;
                    add(examples, "in SQS more than once, copies a consumer cannot drop", task.n());
                }
            }
        }
        int withoutTaskId = 0;
        for (List<QueuedMessage> copies : intact.values()) {
            withoutTaskId += (int) copies.stream().filter(copy -> copy.taskId() == null).count();
        }
        int sharedTaskIds = 0;
        for (Map.Entry<String, Set<Integer>> entry : tasksOfTaskId.entrySet()) {
            if (entry.getValue().size() > 1) {
                sharedTaskIds++;
                entry.getValue().forEach(n -> add(examples, "sharing a taskId with another task", n));
            }
        }
        int unacknowledged = sent.size() - acknowledged;
        int leftInFallback = observed.fallbackLeft().size();

        if (lost > 0) {
            failures.add(lost + " acknowledged tasks are lost: found neither in SQS nor in the fallback");
        }
        if (fifo && duplicated > 0) {
            failures.add(duplicated + " tasks are in the FIFO queue more than once (" + extraCopies
                         + " extra copies): its deduplication should have dropped them");
        } else if (notDroppable > 0) {
            failures.add(notDroppable + " tasks are in SQS more than once with copies a consumer cannot drop (no"
                         + " taskId, or not the same one)");
        }
        if (sharedTaskIds > 0) {
            failures.add(sharedTaskIds + " taskIds are carried by messages of different tasks: a consumer dropping"
                         + " copies by taskId would drop a task");
        }
        if (leftInFallback > 0) {
            long alsoInSqs = inFallback.keySet().stream().filter(intact::containsKey).count();
            failures.add(String.format("the fallback collection was not drained: %d documents left (%d of them also in"
                                       + " SQS, %d not a task as sent)", leftInFallback, alsoInSqs, fallbackNotSent));
        }
        if (messageIdNotInSqs > 0) {
            failures.add(messageIdNotInSqs + " tasks were acknowledged with a messageId that is not in SQS as that"
                         + " task's message");
        }
        if (md5Differs > 0) {
            failures.add(md5Differs + " tasks were acknowledged with an md5OfBody that is not the MD5 of the body"
                         + " sent");
        }
        if (!altered.isEmpty()) {
            failures.add(altered.size() + " messages in SQS have a body that is not one that was sent");
        }
        if (observed.queueLeft() > 0) {
            failures.add("SQS still held " + observed.queueLeft() + " messages after the reads: the queue was not"
                         + " read to the end");
        }
        return new TaskFigures(sent.size(), acknowledged, acknowledgedFallback, unacknowledged, foundItems, inSqs,
                leftInFallback, lost, duplicated, droppable, notDroppable, extraCopies, withoutTaskId, taskIdFromKey,
                sharedTaskIds, messageIdNotInSqs, md5Differs, altered.size(), unacknowledgedFound,
                unacknowledgedMissing);
    }

    private static EventFigures judgeEvents(List<SentEvents> sent, List<JsonNode> stored, List<String> failures,
                                            Map<String, Set<Integer>> examples) {
        Map<Integer, JsonNode> expected = new HashMap<>();
        for (SentEvents request : sent) {
            for (int k = 0; k < request.events().size(); k++) {
                expected.put(request.firstItem() + k, request.events().get(k));
            }
        }
        Map<Integer, Integer> copies = new HashMap<>();
        int differ = 0;
        for (JsonNode event : stored) {
            JsonNode n = event.path("eventMeta").path("n");
            JsonNode sentEvent = n.canConvertToInt() ? expected.get(n.asInt()) : null;
            if (sentEvent == null || !sentEvent.equals(SAME_VALUE, event)) {
                differ++;
                add(examples, "stored otherwise than sent", sentEvent == null ? -1 : n.asInt());
            } else {
                copies.merge(n.asInt(), 1, Integer::sum);
            }
        }
        int acknowledgedRequests = 0;
        int acknowledgedItems = 0;
        int foundItems = 0;
        int lost = 0;
        int duplicated = 0;
        int extraCopies = 0;
        int unacknowledgedFound = 0;
        int unacknowledgedMissing = 0;
        int items = 0;
        for (SentEvents request : sent) {
            acknowledgedRequests += request.acknowledged() ? 1 : 0;
            for (int n = request.firstItem(); n < request.firstItem() + request.events().size(); n++) {
                items++;
                int found = copies.getOrDefault(n, 0);
                foundItems += found > 0 ? 1 : 0;
                if (found > 1) {
                    duplicated++;
                    extraCopies += found - 1;
                    add(examples, "stored more than once", n);
                }
                if (request.acknowledged()) {
                    acknowledgedItems++;
                    if (found == 0) {
                        lost++;
                        add(examples, "lost", n);
                    }
                } else {
                    unacknowledgedFound += found > 0 ? 1 : 0;
                    unacknowledgedMissing += found > 0 ? 0 : 1;
                    add(examples, "without a 2xx at the deadline", n);
                }
            }
        }
        if (lost > 0) {
            failures.add(lost + " acknowledged events are lost: not in send_event");
        }
        if (duplicated > 0) {
            failures.add(duplicated + " events are in send_event more than once (" + extraCopies + " extra copies)");
        }
        if (differ > 0) {
            failures.add(differ + " events in send_event differ from what was sent");
        }
        return new EventFigures(sent.size(), items, acknowledgedRequests, sent.size() - acknowledgedRequests,
                acknowledgedItems, foundItems, lost, duplicated, extraCopies, differ, unacknowledgedFound,
                unacknowledgedMissing);
    }

    private static void add(Map<String, Set<Integer>> examples, String what, int n) {
        examples.computeIfAbsent(what, k -> new TreeSet<>()).add(n);
    }

    /** The {@code data.n} of a task body, or null when the body is no JSON object with one. */
    private static Integer marker(String body) {
        try {
            JsonNode n = JSON.readTree(body).path("data").path("n");
            return n.canConvertToInt() ? n.asInt() : null;
        } catch (Exception e) {
            return null;
        }
    }

    static String md5Hex(String text) {
        return digest("MD5", text);
    }

    static String sha256Hex(String text) {
        return digest("SHA-256", Objects.requireNonNull(text));
    }

    private static String digest(String algorithm, String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm)
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
