package com.metropia.portal.messaging;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.MongoException;
import org.apache.camel.Exchange;
import org.apache.camel.util.ObjectHelper;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The HTTP edge: checks on the request line and headers, and RFC 9457 {@code application/problem+json} answers.
 */
public class HttpProblems {

    public static final String PROBLEM_JSON = "application/problem+json";

    private final ObjectMapper mapper;

    public HttpProblems(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** Only {@code POST} with a JSON body reaches the routes behind the API. */
    public void requireJsonPost(Exchange exchange) {
        String method = exchange.getMessage().getHeader(Exchange.HTTP_METHOD, String.class);
        if (!"POST".equalsIgnoreCase(method)) {
            throw new HttpRequestException(405, "Method " + method + " is not allowed here: use POST");
        }
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        String mediaType = contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json") && !mediaType.endsWith("+json")) {
            throw new HttpRequestException(415, "Content-Type " + (contentType == null ? "(none)" : contentType)
                                                + " is not supported: send application/json");
        }
    }

    /**
     * Replaces the message with a problem document for the exception being handled, with the status the route set in
     * {@code CamelHttpResponseCode}. No request header survives into the response.
     */
    public void problem(Exchange exchange) throws JsonProcessingException {
        Exception error = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 500, Integer.class);
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", "about:blank");
        problem.put("title", title(status));
        problem.put("status", status);
        problem.put("detail", detail(error, status));
        if (error instanceof InvalidRequestException invalid && !invalid.getErrors().isEmpty()) {
            problem.put("errors", invalid.getErrors());
        }
        if (error instanceof EventsNotStoredException notStored) {
            problem.putAll(notStored.getOutcome().toMap());
        }
        if (error instanceof EventsPendingException pending) {
            problem.putAll(pending.getOutcome().toMap());
        }
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, PROBLEM_JSON);
        if (status == 405) {
            exchange.getMessage().setHeader("Allow", "POST");
        }
        if (status == 503) {
            exchange.getMessage().setHeader("Retry-After", exchange.getContext()
                    .resolvePropertyPlaceholders("{{portal.http.retry-after-seconds:5}}"));
        }
        exchange.getMessage().setBody(mapper.writeValueAsString(problem));
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
        if (error instanceof TaskNotQueuedException || error instanceof EventsPendingException) {
            return error.getMessage();
        }
        if (status >= 500 && isSqsFailure(error)) {
            return "The task was not queued: SQS did not accept it (" + error.getMessage() + ")";
        }
        if (status >= 500 && status != 503) {
            return "Internal error: " + error.getClass().getSimpleName() + ". Nothing is known to be stored";
        }
        if (status == 503) {
            return "Nothing was done: a service behind the API did not answer (" + error.getMessage() + ")";
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
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 415 -> "Unsupported Media Type";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
    }
}
