package io.loomkv.bench.wal;

import com.google.protobuf.ByteString;
import io.loomkv.bench.LatencyReport;
import io.loomkv.persist.wal.Wal;
import io.loomkv.persist.wal.WalOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code loomkv bench wal}: many appenders at once, each appending one record and waiting until it
 * is durable (group commit with fsync), measuring append-to-durable latency. With {@code --groups}
 * the appenders are spread over several Raft groups sharing the WAL, as on a store hosting many.
 */
@Command(name = "wal", description = "WAL append-to-durable benchmark with group commit (fsync on by default).", mixinStandardHelpOptions = true)
public final class WalBenchCommand implements Callable<Integer> {
    private static final String PARALLELISM_PROPERTY = "jdk.virtualThreadScheduler.parallelism";
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");

    @Option(names = "--record-size", description = "Entry data size in bytes (default ${DEFAULT-VALUE}).", defaultValue = "128")
    int recordSizeBytes;

    @Option(names = "--duration", description = "Measured run time, e.g. 10s, 500ms, 1m (default ${DEFAULT-VALUE}).", defaultValue = "10s")
    String duration;

    @Option(names = "--warmup", description = "Unmeasured warm-up before the run (default ${DEFAULT-VALUE}).", defaultValue = "2s")
    String warmup;

    @Option(names = "--appenders", description = "Concurrent appenders, each with one record in flight (default ${DEFAULT-VALUE}).", defaultValue = "64")
    int appenders;

    @Option(names = "--groups", description = "Raft groups the records are spread over: appender i appends to group i mod N, each"
            + " group numbering its own entries under its own lock, and every group's records share the one WAL and its forces"
            + " (default ${DEFAULT-VALUE}).", defaultValue = "1")
    int groups;

    @Option(names = "--threads", description = "Appender threads: virtual or platform (default ${DEFAULT-VALUE}).", defaultValue = "virtual")
    String threadKind;

    @Option(names = "--submit", description = "How appenders reach the WAL: direct (one Wal.submit per record under a lock, then"
            + " wait on its ticket), future (the same through Wal.append's future) or combined (flat combining, as the Raft loop"
            + " batches proposals) (default ${DEFAULT-VALUE}).", defaultValue = "direct")
    String submitMode;

    @Option(names = "--carriers", description = "Carrier threads of the virtual-thread scheduler (the appenders', and a virtual"
            + " writer's): sets jdk.virtualThreadScheduler.parallelism before the bench starts its first virtual thread; 0 keeps the"
            + " JVM's choice, the number of cores (default ${DEFAULT-VALUE}). With one, a group commit no longer wakes a second"
            + " carrier that went idle during force(): less CPU and a shorter rest of the round, but no more records/s here.",
            defaultValue = "0")
    int carriers;

    @Option(names = "--writer", description = "The WAL writer's thread: virtual (suits many virtual appenders) or platform (as a node"
            + " runs it, behind its one Raft loop) (default ${DEFAULT-VALUE}).", defaultValue = "virtual")
    String writerKind;

    @Option(names = "--sync-delay-us", description = "Longest the WAL writer holds a force for returning appenders (default ${DEFAULT-VALUE}).",
            defaultValue = "100")
    int syncDelayMicros;

    @Option(names = "--fsync", arity = "1", description = "true: appends are durable after fdatasync; false: after the write"
            + " reaches the OS (survives a process crash, not a power loss) (default ${DEFAULT-VALUE}).", defaultValue = "true")
    boolean fsync;

    @Option(names = "--raw-fsync-samples", description = "Before the run, time this many raw 4 KiB write + fdatasync calls in the WAL"
            + " directory, to put the figures next to the device's own speed; 0 skips it (default ${DEFAULT-VALUE}).", defaultValue = "200")
    int rawFsyncSamples;

    @Option(names = "--segment-size", description = "WAL segment size in bytes (default ${DEFAULT-VALUE}).", defaultValue = "67108864")
    long segmentSizeBytes;

    @Option(names = "--dir", description = "Directory in which a temporary WAL directory is created and removed (default: current directory).")
    Path dir;

    @Option(names = "--json", description = "Print the shared one-line JSON summary as the last line.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        long durationNanos;
        long warmupNanos;
        WalOptions probe;
        try {
            durationNanos = parseDuration(duration);
            warmupNanos = parseDuration(warmup);
            if (durationNanos <= 0) {
                throw new IllegalArgumentException("--duration must be positive");
            }
            if (recordSizeBytes < 0 || recordSizeBytes > 8 << 20) {
                throw new IllegalArgumentException("--record-size must be in 0..8 MiB, got " + recordSizeBytes);
            }
            if (!submitMode.equals("direct") && !submitMode.equals("future") && !submitMode.equals("combined")) {
                throw new IllegalArgumentException("--submit must be direct, future or combined, got " + submitMode);
            }
            if (!threadKind.equals("virtual") && !threadKind.equals("platform")) {
                throw new IllegalArgumentException("--threads must be virtual or platform, got " + threadKind);
            }
            if (carriers < 0 || carriers > 256) {
                throw new IllegalArgumentException("--carriers must be in 0..256, got " + carriers);
            }
            if (carriers > 0) {
                String set = System.getProperty(PARALLELISM_PROPERTY);
                if (set != null && !set.equals(Integer.toString(carriers))) {
                    throw new IllegalArgumentException("--carriers " + carriers + " conflicts with -D" + PARALLELISM_PROPERTY + "=" + set);
                }
                // Read once, when the JVM starts its first virtual thread: nothing before this command starts one.
                System.setProperty(PARALLELISM_PROPERTY, Integer.toString(carriers));
            }
            if (!writerKind.equals("virtual") && !writerKind.equals("platform")) {
                throw new IllegalArgumentException("--writer must be virtual or platform, got " + writerKind);
            }
            if (rawFsyncSamples < 0 || rawFsyncSamples > 100_000) {
                throw new IllegalArgumentException("--raw-fsync-samples must be in 0..100000, got " + rawFsyncSamples);
            }
            if (appenders < 1 || appenders > 4096) {
                throw new IllegalArgumentException("--appenders must be in 1..4096, got " + appenders);
            }
            if (groups < 1 || groups > appenders) {
                throw new IllegalArgumentException("--groups must be in 1..--appenders (" + appenders + "), got " + groups);
            }
            probe = WalOptions.defaults(Paths.get(".")).withSegmentSizeBytes(segmentSizeBytes).withMaxSyncDelayMicros(syncDelayMicros);
            if (recordSizeBytes + 64 > probe.maxAppendBytes()) {
                throw new IllegalArgumentException("--record-size " + recordSizeBytes + " does not fit half a segment of " + segmentSizeBytes + " bytes");
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Path parent = dir != null ? dir : Paths.get("").toAbsolutePath();
        Files.createDirectories(parent);
        Path walDir = Files.createTempDirectory(parent, "loomkv-wal-bench-");
        try {
            if (rawFsyncSamples > 0) {
                measureRawFsync(walDir);
            }
            run(walDir, warmupNanos, durationNanos);
        } finally {
            deleteRecursively(walDir);
        }
        return 0;
    }

    private void run(Path walDir, long warmupNanos, long durationNanos) throws Exception {
        WalOptions options = WalOptions.defaults(walDir).withSegmentSizeBytes(segmentSizeBytes).withMaxSyncDelayMicros(syncDelayMicros)
                .withFsync(fsync).withVirtualWriter(writerKind.equals("virtual"));
        ByteString data = ByteString.copyFrom(new byte[recordSizeBytes]);
        try (Wal wal = Wal.open(options, groupId -> 0)) {
            List<RecordSubmitter> submitters = new ArrayList<>(groups);
            for (long group = 0; group < groups; group++) {
                submitters.add(RecordSubmitter.create(submitMode, wal, group, data));
            }
            AtomicLong errors = new AtomicLong();
            List<Histogram> histograms = new ArrayList<>();
            long[] counts = new long[appenders];
            long start = System.nanoTime();
            long measureFrom = start + warmupNanos;
            long stopAt = measureFrom + durationNanos;
            long[] forcesAtStart = new long[4];
            List<Thread> threads = new ArrayList<>();
            for (int a = 0; a < appenders; a++) {
                Histogram histogram = LatencyReport.newLatencyHistogram();
                histograms.add(histogram);
                int slot = a;
                RecordSubmitter submitter = submitters.get(a % groups);
                Thread.Builder builder = threadKind.equals("virtual") ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
                threads.add(builder.name("wal-bench-" + a).start(() -> {
                    long count = 0;
                    // One clock read per record: an append's end is the next one's begin (the histogram
                    // update in between takes some tens of nanoseconds).
                    long begin = System.nanoTime();
                    while (begin < stopAt) {
                        try {
                            submitter.appendDurably();
                        } catch (RuntimeException | InterruptedException e) {
                            errors.incrementAndGet();
                            return;
                        }
                        long end = System.nanoTime();
                        if (begin >= measureFrom) {
                            histogram.recordValue(end - begin);
                            count++;
                        }
                        begin = end;
                    }
                    counts[slot] = count;
                }));
            }
            Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(measureFrom - System.nanoTime())));
            forcesAtStart[0] = wal.forceCount();
            forcesAtStart[1] = wal.forceNanos();
            forcesAtStart[2] = wal.writeNanos();
            forcesAtStart[3] = wal.completeNanos();
            long cpuAtStart = processCpuNanos();
            long measuredStart = System.nanoTime();
            // Sample forces and CPU again when the window closes, not after the last appender's
            // last (possibly very slow) append, so that they cover about the same span as the count.
            Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(stopAt - System.nanoTime())));
            long forces = wal.forceCount() - forcesAtStart[0];
            long forceNanos = wal.forceNanos() - forcesAtStart[1];
            long writeNanos = wal.writeNanos() - forcesAtStart[2];
            long completeNanos = wal.completeNanos() - forcesAtStart[3];
            long cpuNanos = processCpuNanos() - cpuAtStart;
            long measuredEnd = System.nanoTime();
            for (Thread thread : threads) {
                thread.join();
            }
            // Operations count when they began inside [measureFrom, stopAt): that is their window,
            // even when the sleep above overslept (measuring from its end would inflate the rate).
            long elapsed = stopAt - measureFrom;
            // Forces and CPU time were sampled from the end of that sleep to the end of the next one.
            long sampledNanos = Math.max(1, measuredEnd - measuredStart);
            Histogram total = LatencyReport.newLatencyHistogram();
            long operations = 0;
            for (int a = 0; a < appenders; a++) {
                total.add(histograms.get(a));
                operations += counts[a];
            }
            LatencyReport report = new LatencyReport(String.format(Locale.ROOT,
                    "wal bench: %d %s appenders (%s submit)%s, %s writer, carrier threads %s, %d B records, %s, dir %s",
                    appenders, threadKind, submitMode, groups == 1 ? "" : " over " + groups + " groups", writerKind,
                    System.getProperty(PARALLELISM_PROPERTY, Runtime.getRuntime().availableProcessors() + " (default)"), recordSizeBytes, fsync ? "fsync on (group commit)" : "fsync OFF (durable = written to the OS)",
                    walDir),
                    total, operations, errors.get(), elapsed);
            report.printSummary(System.out);
            double forcesPerSecond = forces * 1e9 / sampledNanos;
            if (fsync) {
                System.out.printf(Locale.ROOT, "  fsyncs/s      %.0f (%.1f records per fsync, %d segments, %d started sparse)%n",
                        forcesPerSecond, forces == 0 ? 0.0 : operations * 1e9 / elapsed / forcesPerSecond, wal.segmentCount(),
                        wal.sparseSegmentCount());
                if (forces > 0) {
                    // A round is one group commit; what is not force() is gathering, writing and waking appenders.
                    System.out.printf(Locale.ROOT, "  round         %.0f us: force() %.0f us, the rest %.0f us (write %.0f, complete and wake %.0f,"
                                    + " waiting for appenders %.0f)%n",
                            sampledNanos / 1000.0 / forces, forceNanos / 1000.0 / forces, (sampledNanos - forceNanos) / 1000.0 / forces,
                            writeNanos / 1000.0 / forces, completeNanos / 1000.0 / forces,
                            (sampledNanos - forceNanos - writeNanos - completeNanos) / 1000.0 / forces);
                }
            } else {
                System.out.printf(Locale.ROOT, "  fsyncs/s      0 (fsync off; %d segments, %d started sparse)%n", wal.segmentCount(),
                        wal.sparseSegmentCount());
            }
            if (cpuNanos >= 0 && operations > 0) {
                // On a shared machine the CPU spent per record is steadier than the wall-clock figures.
                System.out.printf(Locale.ROOT, "  cpu           %.2f us per record (this process, %.2f of %d cores busy)%n",
                        cpuNanos / 1000.0 / operations, cpuNanos / (double) sampledNanos, Runtime.getRuntime().availableProcessors());
            }
            if (json) {
                System.out.println(report.toJsonLine());
            }
        }
    }

    /** Times plain 4 KiB writes each followed by fdatasync, so a shared machine's current disk speed is printed next to the result. */
    private void measureRawFsync(Path walDir) throws IOException {
        Path file = walDir.resolve("raw-fsync-probe");
        Histogram histogram = LatencyReport.newLatencyHistogram();
        ByteBuffer block = ByteBuffer.allocateDirect(4096);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < rawFsyncSamples; i++) {
                block.clear();
                long position = (long) (i % 256) * block.capacity();
                long begin = System.nanoTime();
                while (block.hasRemaining()) {
                    position += channel.write(block, position);
                }
                channel.force(false);
                histogram.recordValue(System.nanoTime() - begin);
            }
        } finally {
            Files.deleteIfExists(file);
        }
        System.out.printf(Locale.ROOT, "raw 4 KiB write + fdatasync (%d samples): p50 %d us, p99 %d us, mean %.0f us%n", rawFsyncSamples,
                histogram.getValueAtPercentile(50) / 1000, histogram.getValueAtPercentile(99) / 1000, histogram.getMean() / 1000);
    }

    /** CPU time of this process so far, or -1 when the JVM does not say. */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    static long parseDuration(String text) {
        Matcher matcher = DURATION.matcher(text.trim());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("bad duration '" + text + "': use e.g. 10s, 500ms, 1m");
        }
        long value = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "ms" -> TimeUnit.MILLISECONDS.toNanos(value);
            case "s" -> TimeUnit.SECONDS.toNanos(value);
            default -> TimeUnit.MINUTES.toNanos(value);
        };
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
