package com.metropia.portal.messaging.tasks;

import com.metropia.portal.messaging.InvalidRequestException;
import com.metropia.portal.messaging.PayloadTooLargeException;
import com.metropia.portal.messaging.support.Idempotency;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.sqs.Sqs2Constants;

/**
 * The task message and the reply to whoever sent it.
 */
public class PortalTasks {

    /**
     * Exchange property holding the id of the task being sent; the routes give it to SQS as the message attribute
     * {@code taskId}, the same on every resend and redrive, so that a consumer of a standard queue can drop a copy.
     */
    public static final String TASK_ID = "portalTaskId";

    /** The largest message SQS takes, in bytes (1 MiB). */
    public static final int SQS_MAX_MESSAGE_BYTES = 1_048_576;

    private final ObjectMapper mapper;
    private final int maxMessageBytes;

    public PortalTasks(ObjectMapper mapper, int maxMessageBytes) {
        this.mapper = mapper;
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * The SQS message body: exactly {@code {"action":…,"data":{…}}}, in that order, compact UTF-8 JSON, with the data
     * as the caller sent it (decimals keep their digits).
     */
    public String toMessageBody(JsonNode task) throws JsonProcessingException {
        ObjectNode message = mapper.createObjectNode();
        message.set("action", task.get("action"));
        message.set("data", task.get("data"));
        String body = mapper.writeValueAsString(message);
        int bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > maxMessageBytes) {
            throw new PayloadTooLargeException("The task is " + bytes + " bytes as an SQS message; the limit is "
                                               + maxMessageBytes + " bytes (portal.sqs.max-message-bytes; SQS takes"
                                               + " at most 1 MiB)");
        }
        refuseWhatSqsRefuses(body);
        return body;
    }

    /**
     * SQS takes message text of #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF only. JSON
     * escapes the control characters; U+FFFE, U+FFFF and a surrogate without its pair (sent as an escape such as "\\ud800")
     * would be refused by SQS, or replaced on the way: refused here, before anything is sent.
     */
    private static void refuseWhatSqsRefuses(String body) {
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < body.length()
                           && Character.isLowSurrogate(body.charAt(i + 1));
            if (pair) {
                i++;
            } else if (c == '\uFFFE' || c == '\uFFFF' || Character.isSurrogate(c)) {
                throw new InvalidRequestException(String.format("The task holds the character U+%04X, which SQS does"
                                                                + " not take in a message", (int) c));
            }
        }
    }

    /**
     * Gives the task its id: the SHA-256 (hex) of its Idempotency-Key, so that a retry with the key has the same id, or
     * a new random UUID. On a FIFO queue it is also the message's deduplication id.
     */
    public void assignTaskId(Exchange exchange) {
        String key = exchange.getProperty(TaskKeys.KEY, String.class);
        exchange.setProperty(TASK_ID, key != null ? key : UUID.randomUUID().toString());
    }

    /** What the caller gets back: the identifiers SQS gave the message (and its sequence number on a FIFO queue). */
    public Map<String, Object> reply(Exchange exchange) {
        Map<String, Object> reply = new LinkedHashMap<>();
        String messageId = exchange.getMessage().getHeader(Sqs2Constants.MESSAGE_ID, String.class);
        reply.put("messageId", messageId);
        reply.put("md5OfBody", exchange.getMessage().getHeader(Sqs2Constants.MD5_OF_BODY, String.class));
        String sequenceNumber = SendMessageResults.takeSequenceNumber(messageId);
        if (sequenceNumber != null) {
            reply.put("sequenceNumber", sequenceNumber);
        }
        return reply;
    }
}
