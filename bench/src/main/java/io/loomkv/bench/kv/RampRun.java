package io.loomkv.bench.kv;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The measured phase of {@code bench kv --ramp}: runs the workers on a {@link RampLoop}, prints
 * each level's line as the level ends (this thread closes the levels in order), then the ramp's
 * summary, its SVG and the usual report of all levels together.
 */
final class RampRun {
    /** How long after a level's end its line waits for the level's last operations (an operation gives up after 5 s). */
    static final long LEVEL_GRACE_NANOS = TimeUnit.SECONDS.toNanos(6);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private RampRun() {
    }

    static int measure(KvBenchSettings settings, List<ClientWorker> workers, ErrorKinds errorKinds, PrintStream out, PrintStream err)
            throws InterruptedException, IOException {
        RampSettings ramp = settings.ramp();
        OpStats overall = new OpStats();
        long start = System.nanoTime();
        RampSchedule schedule = new RampSchedule(start, settings.warmupNanos(), ramp.levels(), ramp.spec().everyNanos(), RampSpec.SETTLE_NANOS);
        RampLoop loop = new RampLoop(NanoClock.SYSTEM, schedule, ramp.openLoop(), workers.size(), overall);
        RampReport text = new RampReport(ramp.openLoop(), RampReport.typesOf(settings.mix()), ramp.p99BoundNanos());
        ScheduledExecutorService progress = progressPrinter(loop, start, err);
        List<LevelResult> results = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < workers.size(); i++) {
                ClientWorker worker = workers.get(i);
                int index = i;
                running.add(executor.submit(() -> {
                    loop.run(worker, index);
                    return null;
                }));
            }
            out.println();
            text.header(RampSpec.SETTLE_NANOS).forEach(out::println);
            for (int level = 0; level < schedule.levelCount(); level++) {
                LevelResult result = loop.closeLevel(level, schedule.levelStartNanos(level + 1) + LEVEL_GRACE_NANOS, POLL_NANOS);
                results.add(result);
                out.println(text.line(result));
                out.flush();
            }
            for (Future<?> future : running) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("a bench worker failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            progress.shutdownNow();
            // So no progress line lands after the report (the JSON line must be last).
            progress.awaitTermination(5, TimeUnit.SECONDS);
        }
        text.summary(results).forEach(out::println);
        String title = String.format(Locale.ROOT, "loomkv bench kv %s: %s ramp, %d B values", settings.workload().name(),
                ramp.openLoop() ? "open-loop" : "closed-loop", settings.valueSizeBytes());
        Files.writeString(ramp.plotFile(), RampPlot.render(title, text.levelName(), results, ramp.p99BoundNanos()), StandardCharsets.UTF_8);
        out.println("  ramp plot: " + ramp.plotFile());
        long elapsed = Math.max(1, schedule.endNanos() - schedule.firstLevelNanos());
        KvBenchCommand.report(settings, overall, loop.unsent(), errorKinds, elapsed, out);
        Histogram all = overall.overall();
        if (all.getTotalCount() == 0 && overall.totalErrors() > 0) {
            err.println("error: no operation succeeded in the measured phase");
            return 1;
        }
        return 0;
    }

    private static ScheduledExecutorService progressPrinter(RampLoop loop, long startNanos, PrintStream err) {
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bench-progress");
            thread.setDaemon(true);
            return thread;
        });
        RampSchedule schedule = loop.schedule();
        long[] lastCompleted = {0};
        progress.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            long completed = loop.completed();
            int level = schedule.levelAt(now);
            String phase = level < 0 ? "warmup" : level >= schedule.levelCount() ? "done" : "level " + schedule.level(level);
            err.printf(Locale.ROOT, "[%4.0fs] %-14s %8d ops/s  errors %d%n", (now - startNanos) / 1e9, phase,
                    completed - lastCompleted[0], loop.completedErrors());
            lastCompleted[0] = completed;
        }, 1, 1, TimeUnit.SECONDS);
        return progress;
    }
}
