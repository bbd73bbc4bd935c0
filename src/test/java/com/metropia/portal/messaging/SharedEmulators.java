package com.metropia.portal.messaging;

import com.metropia.portal.messaging.dev.EmbeddedEmulators;

/**
 * One pair of emulators for the whole test run, on free ports, stopped when the JVM exits.
 */
final class SharedEmulators {

    private static EmbeddedEmulators emulators;

    private SharedEmulators() {
    }

    static synchronized EmbeddedEmulators get() {
        if (emulators == null) {
            emulators = EmbeddedEmulators.start("127.0.0.1", 0, 0);
            Runtime.getRuntime().addShutdownHook(new Thread(emulators::close, "emulators-shutdown"));
        }
        return emulators;
    }
}
