package com.metropia.portal.messaging;

import java.util.List;

/**
 * The start-up stops on settings that are missing or wrong, or on a backend they point at that does not answer. Holds
 * every problem found, each naming the setting to change; {@link PortalMessagingApplication} shows them as one short
 * block and exits with {@link PortalMessagingApplication#CONFIGURATION_ERROR} instead of a stack trace.
 */
public class InvalidConfigurationException extends IllegalStateException {

    private final List<String> problems;

    public InvalidConfigurationException(List<String> problems) {
        super(report(problems));
        this.problems = List.copyOf(problems);
    }

    public InvalidConfigurationException(String problem) {
        this(List.of(problem));
    }

    public List<String> getProblems() {
        return problems;
    }

    private static String report(List<String> problems) {
        StringBuilder text = new StringBuilder("portal-messaging did not start: ").append(problems.size())
                .append(problems.size() == 1 ? " problem" : " problems").append(" to fix");
        for (String problem : problems) {
            text.append("\n  - ").append(problem);
        }
        return text.toString();
    }
}
