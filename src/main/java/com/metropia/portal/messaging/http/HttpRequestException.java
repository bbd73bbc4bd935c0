package com.metropia.portal.messaging.http;

/**
 * The HTTP request itself is wrong (method, content type): answered with its status before anything is done.
 */
public class HttpRequestException extends RuntimeException {

    private final int status;

    public HttpRequestException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int getStatus() {
        return status;
    }
}
