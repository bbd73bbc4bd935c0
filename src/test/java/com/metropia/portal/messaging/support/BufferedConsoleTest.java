package com.metropia.portal.messaging.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The stand-alone service's standard output: written in blocks, whole lines in the order they came, nothing lost. (That
 * a line comes out while the service is idle, and every line at a SIGTERM, is checked on the packaged service:
 * ShutdownLogTest.)
 */
class BufferedConsoleTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final BufferedConsole console = new BufferedConsole(out, 64);

    @Test
    void should_keep_lines_until_drained_even_when_told_to_flush() {
        PrintStream stream = new PrintStream(console, false, StandardCharsets.UTF_8);
        stream.print("first line\n");
        // what log4j's console appender does after every line
        stream.flush();

        assertThat(out.size()).isZero();
        console.drain();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("first line\n");
    }

    @Test
    void should_write_every_line_as_it_comes_once_the_service_has_stopped() throws Exception {
        console.write("last line of the service\n".getBytes(StandardCharsets.UTF_8));

        console.writeThrough();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("last line of the service\n");
        console.write("a shutdown hook's line\n".getBytes(StandardCharsets.UTF_8));
        console.write('!');

        assertThat(out.toString(StandardCharsets.UTF_8))
                .isEqualTo("last line of the service\na shutdown hook's line\n!");
    }

    @Test
    void should_write_the_buffer_out_when_the_next_line_does_not_fit_and_keep_the_order() throws Exception {
        byte[] line = "0123456789abcdefghijklmnopqrstu\n".getBytes(StandardCharsets.UTF_8); // 32 bytes
        console.write(line, 0, line.length);
        console.write(line, 0, line.length);
        assertThat(out.size()).isZero();

        console.write("next\n".getBytes(StandardCharsets.UTF_8));

        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(new String(line, StandardCharsets.UTF_8).repeat(2));
        console.drain();
        assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("u\nnext\n");
    }

    @Test
    void should_write_a_line_longer_than_the_buffer_after_what_was_before_it() throws Exception {
        console.write("short\n".getBytes(StandardCharsets.UTF_8));
        String longLine = "x".repeat(200) + "\n";

        console.write(longLine.getBytes(StandardCharsets.UTF_8));

        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("short\n" + longLine);
    }

    @Test
    void should_keep_every_line_whole_when_threads_write_at_once() throws Exception {
        BufferedConsole shared = new BufferedConsole(out, 4096);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int writer = t;
            writers.add(new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < 2_000; i++) {
                        shared.write(("writer " + writer + " line " + i + "\n").getBytes(StandardCharsets.UTF_8));
                        if (i % 500 == 0) {
                            shared.drain();
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        writers.forEach(Thread::start);
        start.countDown();
        for (Thread writer : writers) {
            writer.join();
        }
        shared.drain();

        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(8_000).allMatch(line -> line.matches("writer [0-3] line \\d+"));
        for (int t = 0; t < 4; t++) {
            String prefix = "writer " + t + " line ";
            assertThat(lines.stream().filter(line -> line.startsWith(prefix))
                    .map(line -> Integer.parseInt(line.substring(prefix.length()))).toList())
                    .as("writer %d's lines in order", t).isSorted().hasSize(2_000);
        }
    }
}
