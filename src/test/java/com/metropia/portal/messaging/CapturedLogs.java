package com.metropia.portal.messaging;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Collects what one logger (and those below it; the root logger is {@code ""}) writes at or above a level, while open:
 * each line the level and the message, followed by the exceptions logged with it.
 */
final class CapturedLogs extends AbstractAppender implements AutoCloseable {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final String loggerName;
    private final Level previousLevel;

    private CapturedLogs(String loggerName, Level level) {
        super("captured-" + loggerName, null, null, true, Property.EMPTY_ARRAY);
        this.loggerName = loggerName;
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        LoggerConfig logger = configuration.getLoggerConfig(loggerName);
        if (!logger.getName().equals(loggerName)) {
            logger = new LoggerConfig(loggerName, level, true);
            configuration.addLogger(loggerName, logger);
        }
        previousLevel = logger.getLevel();
        logger.setLevel(level);
        start();
        logger.addAppender(this, level, null);
        context.updateLoggers();
    }

    static CapturedLogs of(String loggerName, Level level) {
        return new CapturedLogs(loggerName, level);
    }

    @Override
    public void append(LogEvent event) {
        StringBuilder line = new StringBuilder().append(event.getLevel()).append(' ')
                .append(event.getMessage().getFormattedMessage());
        for (Throwable thrown = event.getThrown(); thrown != null; thrown = thrown.getCause()) {
            line.append(" | ").append(thrown);
        }
        lines.add(line.toString());
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        LoggerConfig logger = context.getConfiguration().getLoggerConfig(loggerName);
        logger.removeAppender(getName());
        logger.setLevel(previousLevel);
        context.updateLoggers();
        stop();
    }
}
