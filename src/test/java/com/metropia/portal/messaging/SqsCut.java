package com.metropia.portal.messaging;

import java.util.Map;

import com.metropia.portal.messaging.bench.FaultProxy;
import com.metropia.portal.messaging.dev.EmbeddedEmulators;

/**
 * SQS that can be cut off for one service instance: its SQS endpoint goes through a proxy that resets connections
 * while cut, and its queue URL stays the queue's real one, so a task it keeps names the same queue as every other
 * instance of that queue (as a network outage between one instance and SQS would look).
 */
final class SqsCut implements AutoCloseable {

    private final FaultProxy proxy;

    SqsCut(EmbeddedEmulators emulators) {
        proxy = FaultProxy.start("SQS", "127.0.0.1", emulators.sqsPort());
    }

    /**
     * The properties of an instance that reaches the queue through the switch, with one SQS attempt per call so that
     * a cut is seen at once.
     */
    Map<String, String> through(Map<String, String> properties, String queueUrl) {
        properties.put("portal.sqs.endpoint", "http://127.0.0.1:" + proxy.port());
        properties.put("portal.sqs.queue-url", queueUrl);
        properties.put("portal.sqs.max-attempts", "1");
        return properties;
    }

    void cut() {
        proxy.down();
    }

    void restore() {
        proxy.up();
    }

    @Override
    public void close() {
        proxy.close();
    }
}
