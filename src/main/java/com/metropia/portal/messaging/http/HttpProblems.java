package com.metropia.portal.messaging.http;

import com.metropia.portal.messaging.EventsNotStoredException;
import com.metropia.portal.messaging.EventsPendingException;
import com.metropia.portal.messaging.IdempotencyConflictException;
import com.metropia.portal.messaging.InvalidRequestException;
import com.metropia.portal.messaging.TaskNotQueuedException;
import com.metropia.portal.messaging.TaskRefusedException;
import com.metropia.portal.messaging.events.EventsOutcome;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.MongoException;
import org.apache.camel.Exchange;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.SynchronizationAdapter;
import org.apache.camel.util.ObjectHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The HTTP edge: checks on the request line and headers, and RFC 9457 {@code application/problem+json} answers.
 * <p>
 * An answer says in plain words what happened and what was done, with the request id; what went wrong inside (a
 * driver's message with host names and cluster state, a stack trace) goes to the log under the same id.
 */
public class HttpProblems {

    private static final Logger LOG = LoggerFactory.getLogger(HttpProblems.class);

    public static final String PROBLEM_JSON = "application/problem+json";

    private final ObjectMapper mapper;

    /** Takes the request id off the thread that finishes the exchange (the one that put it, as the routes run). */
    private static final Synchronization REMOVE_REQUEST_ID = new SynchronizationAdapter() {
        @Override
        public void onDone(Exchange exchange) {
            MDC.remove(RequestIds.KEY);
        }
    };

    public HttpProblems(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * Only {@code POST} with a JSON body, as the caller sent it and in UTF-8, reaches the routes behind the API: a body
     * the service would have to decode first (a {@code Content-Encoding} such as gzip) or read in another charset is
     * refused with 415 rather than read as something it is not.
     */
    public void requireJsonPost(Exchange exchange) {
        String requestId = RequestIds.of(exchange);
        // Every line logged while the request is handled carries its id: the route runs on this thread (the events'
        // batches too, on the caller's thread). Put once here and removed when the exchange is done, rather than by
        // Camel's MDC logging, which puts and removes its camel.* keys at every step of every event.
        MDC.put(RequestIds.KEY, requestId);
        exchange.getExchangeExtension().addOnCompletion(REMOVE_REQUEST_ID);
        String method = exchange.getMessage().getHeader(Exchange.HTTP_METHOD, String.class);
        if (!"POST".equalsIgnoreCase(method)) {
            throw new HttpRequestException(405, "Method " + method + " is not allowed here: use POST");
        }
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        String[] parts = contentType == null ? new String[] {""} : contentType.split(";");
        String mediaType = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json") && !mediaType.endsWith("+json")) {
            throw new HttpRequestException(415, "Content-Type " + (contentType == null ? "(none)" : quoted(mediaType))
                                                + " is not supported: send application/json");
        }
        for (int i = 1; i < parts.length; i++) {
            String[] parameter = parts[i].split("=", 2);
            if (parameter[0].trim().equalsIgnoreCase("charset") && parameter.length == 2) {
                String charset = parameter[1].trim().replace("\"", "");
                if (!charset.equalsIgnoreCase("utf-8")) {
                    throw new HttpRequestException(415, "charset " + quoted(charset)
                                                        + " is not supported: send the JSON in UTF-8 (charset=utf-8)");
                }
            }
        }
        String encoding = exchange.getMessage().getHeader("Content-Encoding", String.class);
        if (encoding != null && !encoding.isBlank()) {
            for (String coding : encoding.split(",")) {
                if (!coding.trim().equalsIgnoreCase("identity")) {
                    throw new HttpRequestException(415, "Content-Encoding " + quoted(coding.trim())
                                                        + " is not supported: send the body as it is (identity)");
                }
            }
        }
    }

    /** A caller's word repeated in an answer: printable ASCII only, and short. */
    private static String quoted(String text) {
        String printable = text.chars().limit(40)
                .mapToObj(c -> c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : "?")
                .reduce("", String::concat);
        return "'" + printable + (text.length() > 40 ? "...'" : "'");
    }

    /**
     * Replaces the message with a problem document for the exception being handled, with the status the route set in
     * {@code CamelHttpResponseCode}. No request header survives into the response.
     */
    public void problem(Exchange exchange) throws JsonProcessingException {
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 500, Integer.class);
        String requestId = RequestIds.of(exchange);
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "about:blank");
        problem.put("title", title(status));
        problem.put("status", status);
        problem.put("detail", detail(error, status));
        problem.put(RequestIds.KEY, requestId);
        if (error instanceof InvalidRequestException invalid && !invalid.getErrors().isEmpty()) {
            problem.put("errors", invalid.getErrors());
        }
        if (error instanceof EventsNotStoredException notStored) {
            problem.putAll(inPlainWords(notStored.getOutcome().toMap()));
        }
        if (error instanceof EventsPendingException pending) {
            problem.putAll(pending.getOutcome().toMap());
        }
        if (error instanceof IdempotencyConflictException conflict) {
            problem.put("conflict", conflict.getConflict().value());
        }
        log(requestId, status, error);
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, PROBLEM_JSON);
        exchange.getMessage().setHeader(RequestIds.HEADER, requestId);
        if (status == 405) {
            exchange.getMessage().setHeader("Allow", "POST");
        }
        if (status == 503 || error instanceof IdempotencyConflictException conflict
                              && conflict.getConflict() == IdempotencyConflictException.Conflict.IN_PROGRESS) {
            exchange.getMessage().setHeader("Retry-After", exchange.getContext()
                    .resolvePropertyPlaceholders("{{portal.http.retry-after-seconds}}"));
        }
        exchange.getMessage().setBody(mapper.writeValueAsString(problem));
    }

    /** What the caller is not told goes to the log, under the request id: failures of the service at WARN or ERROR. */
    private static void log(String requestId, int status, Exception error) {
        if (status >= 500 && status != 503) {
            LOG.error("Request {}: answered {}", requestId, status, error);
        } else if (status == 503) {
            LOG.warn("Request {}: answered 503: {}", requestId, error == null ? "" : error.toString());
        } else {
            LOG.debug("Request {}: answered {}: {}", requestId, status, error == null ? "" : error.getMessage());
        }
    }

    /** The outcome of a call with each failed batch's error told in plain words, not in the driver's. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> inPlainWords(Map<String, Object> outcome) {
        Object failed = outcome.get("failedBatches");
        if (failed instanceof List<?> batches) {
            List<Map<String, Object>> plain = new ArrayList<>();
            for (Object batch : batches) {
                Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) batch);
                copy.put("error", plainError(String.valueOf(copy.get("error"))));
                plain.add(copy);
            }
            outcome.put("failedBatches", plain);
        }
        return outcome;
    }

    private static String plainError(String error) {
        if (error.contains("not attempted")) {
            return "not attempted: MongoDB did not answer for an earlier batch of this request";
        }
        if (error.startsWith("MongoTimeout") || error.startsWith("MongoSocket")
            || error.startsWith("MongoNotPrimary") || error.startsWith("MongoNodeIsRecovering")
            || error.startsWith("MongoInterrupted") || error.contains("Timeout")) {
            return "MongoDB did not answer";
        }
        return "MongoDB did not store the batch";
    }

    private static String detail(Exception error, int status) {
        if (error == null) {
            return title(status);
        }
        if (error instanceof EventsNotStoredException notStored) {
            EventsOutcome outcome = notStored.getOutcome();
            return "Not all events were stored: " + outcome.storedEvents() + " of " + outcome.events()
                   + " events are stored in " + outcome.ids().size() + " documents (ids listed); "
                   + "the batches in failedBatches were not stored";
        }
        if (error instanceof TaskRefusedException) {
            return "The task was not queued: SQS refused it because of this service's SQS configuration (the queue,"
                   + " the credentials or the endpoint). Nothing was queued or kept; a retry fails the same way until"
                   + " the configuration is fixed";
        }
        if (error instanceof EventsPendingException) {
            return error.getMessage();
        }
        if (error instanceof TaskNotQueuedException) {
            return "The task was not queued: SQS did not accept it and MongoDB did not keep it for later."
                   + " Nothing was queued or kept; retry";
        }
        if (status >= 500 && isSqsFailure(error)) {
            return "The task was not queued: SQS did not accept it. Nothing was queued; retry";
        }
        if (status >= 500 && status != 503) {
            return "Internal error. Nothing is known to be stored";
        }
        if (status == 503) {
            return "Nothing was done: a service behind the API did not answer; retry";
        }
        return error.getMessage();
    }

    /** 503 when SQS or MongoDB failed somewhere in the chain of causes (the caller may retry), else 500. */
    public int statusOf(Exchange exchange) {
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        return isSqsFailure(error) || ObjectHelper.getException(MongoException.class, error) != null ? 503 : 500;
    }

    private static boolean isSqsFailure(Throwable error) {
        return ObjectHelper.getException(SdkException.class, error) != null;
    }

    static String title(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 415 -> "Unsupported Media Type";
            case 502 -> "Bad Gateway";
            case 431 -> "Request Header Fields Too Large";
            case 501 -> "Not Implemented";
            case 505 -> "HTTP Version Not Supported";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }
}
