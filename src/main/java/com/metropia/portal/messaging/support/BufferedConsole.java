package com.metropia.portal.messaging.support;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Standard output of the stand-alone service, written in blocks: log4j's console appender flushes after every line
 * (its {@code immediateFlush} is fixed to true), which made one {@code write} system call per line, one per event of
 * a request with the per-event INFO line. Here a flush is ignored: the buffer is written when it is full and every
 * {@link #FLUSH_MILLIS} ms. Once the service has stopped (every line of a normal shutdown written by then), the buffer
 * is written out and what comes after, such as Camel's last line from its shutdown hook, is written as it comes. A
 * process killed with SIGKILL loses at most the last {@link #FLUSH_MILLIS} ms of lines.
 */
public final class BufferedConsole extends OutputStream {

    /** The longest a line waits in the buffer. */
    public static final long FLUSH_MILLIS = 100;

    /** How long the JVM's end waits for the service's own end, which writes the last lines out. */
    private static final long LAST_LINES_WAIT_SECONDS = 60;

    private final OutputStream out;
    private final byte[] buffer;
    private int count;
    private boolean writeThrough;

    BufferedConsole(OutputStream out, int size) {
        this.out = out;
        this.buffer = new byte[size];
    }

    /**
     * Runs the service with standard output buffered, and returns its exit code once everything it wrote is out.
     * Standard error stays unbuffered.
     */
    public static int around(Callable<Integer> service) throws Exception {
        BufferedConsole console = new BufferedConsole(new FileOutputStream(FileDescriptor.out), 64 * 1024);
        // the encoding the JVM gave System.out (Java 17 has no PrintStream.charset())
        String encoding = System.getProperty("sun.stdout.encoding");
        Charset charset = encoding != null && Charset.isSupported(encoding) ? Charset.forName(encoding)
                : Charset.defaultCharset();
        System.setOut(new PrintStream(console, false, charset));
        CountDownLatch done = new CountDownLatch(1);
        Thread flusher = new Thread(() -> {
            try {
                while (!done.await(FLUSH_MILLIS, TimeUnit.MILLISECONDS)) {
                    console.drain();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "portal-console-flush");
        flusher.setDaemon(true);
        flusher.start();
        // On SIGTERM the JVM ends once its shutdown hooks have: this one waits for the service's end below.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                done.await(LAST_LINES_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            console.writeThrough();
        }, "portal-console-last-lines"));
        try {
            return service.call();
        } finally {
            System.out.flush();
            console.writeThrough();
            done.countDown();
        }
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (writeThrough) {
            out.write(b);
            return;
        }
        if (count == buffer.length) {
            writeOut();
        }
        buffer[count++] = (byte) b;
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
        if (length > buffer.length - count) {
            writeOut();
        }
        if (writeThrough || length >= buffer.length) {
            out.write(bytes, offset, length);
            return;
        }
        System.arraycopy(bytes, offset, buffer, count, length);
        count += length;
    }

    /** Ignored: the appender calls it after every line; the buffer goes out when full and every 100 ms. */
    @Override
    public void flush() {
    }

    /** From now on every write goes out as it comes, after what the buffer holds. */
    synchronized void writeThrough() {
        drain();
        writeThrough = true;
    }

    /** Writes what the buffer holds; a failed write (standard output closed) drops it, as an unbuffered one would. */
    synchronized void drain() {
        try {
            writeOut();
        } catch (IOException e) {
            count = 0;
        }
    }

    private void writeOut() throws IOException {
        if (count > 0) {
            int length = count;
            count = 0;
            out.write(buffer, 0, length);
        }
    }
}
