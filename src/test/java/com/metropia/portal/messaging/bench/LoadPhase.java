package com.metropia.portal.messaging.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Client threads that repeat one piece of work for a bounded time, after a warm-up: what they did, how long each call
 * took, and what went wrong. A call in flight when the time is up finishes and counts (its items and its time): the
 * rate is every item done over the whole time the threads ran.
 */
final class LoadPhase {

    /** One call of the work: the items it completed (0 when it failed, with the reason thrown or returned). */
    interface Work {
        int call() throws Exception;
    }

    /**
     * What a phase measured; latencies in milliseconds; {@code clientCpuMicros}, the CPU the client threads used per
     * call (all of the load client's work when it works on the calling thread, as {@link LeanHttpClient} does).
     */
    record Result(double itemsPerSecond, long calls, double p50, double p99, long errors, String firstError,
                  double seconds, double clientCpuMicros) {

        Result(double itemsPerSecond, long calls, double p50, double p99, long errors, String firstError,
               double seconds) {
            this(itemsPerSecond, calls, p50, p99, errors, firstError, seconds, Double.NaN);
        }

        static Result notRun(String why) {
            return new Result(Double.NaN, 0, Double.NaN, Double.NaN, 0, why, 0);
        }

        boolean ran() {
            return !Double.isNaN(itemsPerSecond);
        }
    }

    private LoadPhase() {
    }

    /** Warms up, then calls {@code atMeasureStart} and measures. */
    static Result run(int threads, double warmupSeconds, double seconds, Work work, Runnable atMeasureStart)
            throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
            Thread thread = new Thread(runnable, "bench-client");
            thread.setDaemon(true);
            return thread;
        });
        try {
            if (warmupSeconds > 0) {
                measure(pool, threads, warmupSeconds, work);
            }
            atMeasureStart.run();
            return measure(pool, threads, seconds, work);
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static Result measure(ExecutorService pool, int threads, double seconds, Work work)
            throws InterruptedException {
        AtomicLong items = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong cpuNanos = new AtomicLong();
        ThreadMXBean threadCpu = ManagementFactory.getThreadMXBean();
        AtomicReference<String> firstError = new AtomicReference<>();
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            running.add(pool.submit(() -> {
                List<Long> mine = new ArrayList<>();
                long cpuAtStart = threadCpu.getCurrentThreadCpuTime();
                while (System.nanoTime() < end && !Thread.currentThread().isInterrupted()) {
                    long before = System.nanoTime();
                    try {
                        items.addAndGet(work.call());
                        mine.add(System.nanoTime() - before);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, String.valueOf(e.getMessage() == null ? e : e.getMessage()));
                    }
                }
                cpuNanos.addAndGet(threadCpu.getCurrentThreadCpuTime() - cpuAtStart);
                latencies.addAll(mine);
                return null;
            }));
        }
        for (Future<?> future : running) {
            try {
                future.get();
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        long calls = sorted.size() + errors.get();
        return new Result(items.get() / elapsed, sorted.size(), percentile(sorted, 0.50), percentile(sorted, 0.99),
                errors.get(), firstError.get(), elapsed, calls == 0 ? Double.NaN : cpuNanos.get() / 1e3 / calls);
    }

    private static double percentile(List<Long> sorted, double fraction) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(fraction * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1))) / 1e6;
    }
}
