package io.loomkv.bench.kv;

import com.google.protobuf.ByteString;
import io.loomkv.bench.ClientTlsOptions;
import io.loomkv.bench.LatencyReport;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code loomkv bench kv}: the KV load generator (issue 6). Closed loop with {@code --clients}
 * workers, or open loop at {@code --rate} ops/s with latency from the intended start; YCSB A-F
 * and the seed workload; per-operation HdrHistogram report, {@code --hgrm}, {@code --plot} (SVG)
 * and the shared {@code --json} line, which is the last line of stdout. Progress goes to stderr.
 *
 * <p>Exit codes: 0 run completed (errors, if any, are in the report), 1 the cluster could not be
 * reached (or no operation succeeded), 2 bad options.
 */
@Command(name = "kv", mixinStandardHelpOptions = true,
        description = "The KV load generator: YCSB A-F and the seed workload, closed or open loop, against a running cluster.")
public final class KvBenchCommand implements Callable<Integer> {
    /** Bench workers share a KvClient in groups this big (each KvClient has its own session and write window). */
    static final int WORKERS_PER_CLIENT = 32;
    static final int DEFAULT_CLIENTS = 256;
    static final String DEFAULT_DURATION = "20s";
    static final String DEFAULT_RAMP_PLOT = "bench-kv-ramp.svg";
    private static final int VALUE_POOL_SIZE = 16;
    private static final Duration OPERATION_DEADLINE = Duration.ofSeconds(5);
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(2);

    @Option(names = "--workload", paramLabel = "A|B|C|D|E|F|seed", defaultValue = "seed",
            description = "Operation mix, key distribution and value size defaults (default: ${DEFAULT-VALUE}).")
    String workload;
    @Option(names = "--clients", paramLabel = "N",
            description = "Concurrent clients (default: " + DEFAULT_CLIENTS + "); with an open-loop --ramp, the workers that send the load.")
    Integer clients;
    @Option(names = "--rate", paramLabel = "OPS", defaultValue = "0",
            description = "Open loop at this many ops/s in total, latency from the intended start (0: closed loop).")
    double rate;
    @Option(names = "--keys", paramLabel = "N", defaultValue = "10000", description = "Key count (default: ${DEFAULT-VALUE}).")
    long keys;
    @Option(names = "--value-size", paramLabel = "BYTES", description = "Value size (default: the workload's).")
    Integer valueSize;
    @Option(names = "--read-ratio", paramLabel = "R", description = "Fraction of reads; the other operations share the rest.")
    Double readRatio;
    @Option(names = "--distribution", paramLabel = "uniform|zipfian", description = "Key distribution (default: the workload's).")
    String distribution;
    @Option(names = "--consistency", paramLabel = "linearizable|lease|stale", defaultValue = "linearizable",
            description = "Read consistency (default: ${DEFAULT-VALUE}).")
    String consistency;
    @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "3s", description = "Warm-up, not measured (default: ${DEFAULT-VALUE}).")
    String warmup;
    @Option(names = "--duration", paramLabel = "DURATION",
            description = "Measured time (default: " + DEFAULT_DURATION + "; with --ramp, the ramp's levels up to MAX, else as many as fit).")
    String duration;
    @Option(names = "--ramp", paramLabel = "START:STEP:EVERY[:MAX]",
            description = "Raise the load step by step: START clients (or ops/s with --open-loop), STEP more every EVERY, up to MAX "
                    + "(or to the end of --duration); one report line per level, and an SVG of throughput and p99 against the level.")
    String ramp;
    @Option(names = "--open-loop", description = "With --ramp: the levels are target rates in ops/s, sent by --clients workers.")
    boolean openLoopRamp;
    @Option(names = "--p99-bound", paramLabel = "DURATION", description = "With --ramp: report the first level whose p99 passes this (e.g. 50ms).")
    String p99Bound;
    @Option(names = "--ramp-plot", paramLabel = "FILE",
            description = "With --ramp: where the ramp's SVG goes (default: NAME-ramp.svg next to --plot or --hgrm, else bench-kv-ramp.svg).")
    Path rampPlot;
    @Option(names = "--no-preload", description = "Skip writing every key once before the run.")
    boolean noPreload;
    @Option(names = "--preload-batch", paramLabel = "N", defaultValue = "1",
            description = "Keys per preload request: 1 puts each key, more send multi-puts of N keys, "
                    + "to load many keys fast (default: ${DEFAULT-VALUE}).")
    int preloadBatch;
    @Option(names = "--cluster", paramLabel = "FOLDER|HOST:PORT,...", defaultValue = "conf/local-3node",
            description = "Node config folder or client address list (default: ${DEFAULT-VALUE}).")
    String cluster;
    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--hgrm", paramLabel = "FILE", description = "Write the overall percentile distribution (HdrHistogram format, us).")
    Path hgrm;
    @Option(names = "--plot", paramLabel = "FILE", description = "Write an SVG percentile plot, one line per operation type.")
    Path plot;
    @Mixin
    ClientTlsOptions tls;
    @Option(names = "--move-slots-every", paramLabel = "DURATION",
            description = "While the load runs, move --move-slots slots to another group this often (a sharded cluster)")
    String moveSlotsEvery;

    @Option(names = "--move-slots", paramLabel = "N", defaultValue = "64",
            description = "Slots per move with --move-slots-every (default: ${DEFAULT-VALUE})")
    int moveSlots;

    @Option(names = "--mget-keys", paramLabel = "N", defaultValue = "0",
            description = "Each read is a multi-get of N keys drawn like a read's key, split per group by the client "
                    + "(0: a read gets one key; default: ${DEFAULT-VALUE}).")
    int mgetKeys;

    @Option(names = "--json", description = "End with the one-line JSON summary.")
    boolean json;

    /** The validated settings; IllegalArgumentException names the bad flag. */
    KvBenchSettings settings() {
        Workload chosen = KvBenchSettings.parseWorkload(workload);
        OperationMix mix = readRatio == null ? chosen.mix() : chosen.mix().withReadRatio(readRatio);
        KeyDistribution keyDistribution = distribution == null ? chosen.distribution() : KvBenchSettings.parseDistribution(distribution);
        int clientCount = clients == null ? DEFAULT_CLIENTS : clients;
        long durationNanos = KvBenchSettings.parseDurationNanos("--duration", duration == null ? DEFAULT_DURATION : duration);
        RampSettings rampSettings = rampSettings(durationNanos);
        if (rampSettings != null) {
            durationNanos = rampSettings.durationNanos();
            if (!rampSettings.openLoop()) {
                // One worker per client of the highest level; the schedule starts them level by level.
                clientCount = (int) rampSettings.lastLevel();
            }
        }
        return new KvBenchSettings(chosen, mix, keyDistribution, clientCount, rate, keys,
                valueSize == null ? chosen.valueSizeBytes() : valueSize, KvBenchSettings.parseConsistency(consistency),
                KvBenchSettings.parseDurationNanos("--warmup", warmup), durationNanos,
                !noPreload, preloadBatch, cluster, seed, hgrm, plot, json, rampSettings, mgetKeys);
    }

    /** The ramp, or null without {@code --ramp}; IllegalArgumentException names the bad or conflicting flag. */
    private RampSettings rampSettings(long durationNanos) {
        if (ramp == null) {
            requireAbsent(openLoopRamp, "--open-loop needs --ramp (without a ramp, --rate OPS runs an open loop)");
            requireAbsent(p99Bound != null, "--p99-bound needs --ramp");
            requireAbsent(rampPlot != null, "--ramp-plot needs --ramp");
            return null;
        }
        RampSpec spec = RampSpec.parse(ramp);
        requireAbsent(rate != 0, "--rate does not go with --ramp: add --open-loop to ramp the target rate");
        requireAbsent(!openLoopRamp && clients != null,
                "--clients does not go with a closed-loop --ramp: the ramp sets the number of clients (with --open-loop, --clients sets the workers)");
        long levelLimit = openLoopRamp ? (long) KvBenchSettings.MAX_RATE_OPS_PER_SECOND : KvBenchSettings.MAX_CLIENTS;
        // With MAX and no explicit --duration, the ramp alone sets the run's length.
        List<Long> levels = spec.levels(duration == null && spec.hasMax() ? Long.MAX_VALUE : durationNanos, levelLimit);
        long boundNanos = RampReport.NO_BOUND;
        if (p99Bound != null) {
            boundNanos = KvBenchSettings.parseDurationNanos("--p99-bound", p99Bound);
            requireAbsent(boundNanos <= 0, "--p99-bound must be above 0, got '" + p99Bound + "'");
        }
        return new RampSettings(spec, openLoopRamp, levels, boundNanos, rampPlot != null ? rampPlot : defaultRampPlot(plot, hgrm));
    }

    private static void requireAbsent(boolean conflict, String message) {
        if (conflict) {
            throw new IllegalArgumentException(message);
        }
    }

    /** NAME-ramp.svg next to the percentile plot (or the hgrm file), else bench-kv-ramp.svg here. */
    static Path defaultRampPlot(Path plotFile, Path hgrmFile) {
        Path sibling = plotFile != null ? plotFile : hgrmFile;
        if (sibling == null) {
            return Path.of(DEFAULT_RAMP_PLOT);
        }
        String name = sibling.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return sibling.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + "-ramp.svg");
    }

    @Override
    public Integer call() throws Exception {
        KvBenchSettings settings;
        ClusterAddresses target;
        TlsContext tlsContext;
        try {
            settings = settings();
            target = ClusterAddresses.resolve(settings.cluster());
            tlsContext = tls.context();
        } catch (IllegalArgumentException | NodeConfigException | IOException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        long moveEveryNanos = 0;
        if (moveSlotsEvery != null) {
            try {
                moveEveryNanos = KvBenchSettings.parseDurationNanos("--move-slots-every", moveSlotsEvery);
                requireAbsent(moveEveryNanos <= 0, "--move-slots-every must be above 0");
                requireAbsent(settings.ramp() != null, "--move-slots-every does not go with --ramp");
                requireAbsent(moveSlots < 1 || moveSlots > io.loomkv.core.shard.Slots.SLOT_COUNT,
                        "--move-slots must be 1.." + io.loomkv.core.shard.Slots.SLOT_COUNT);
            } catch (IllegalArgumentException e) {
                System.err.println("error: " + e.getMessage());
                return 2;
            }
        }
        return run(settings, target, tlsContext, moveEveryNanos, moveSlots, System.out, System.err);
    }

    private static int run(KvBenchSettings settings, ClusterAddresses target, TlsContext tlsContext, long moveEveryNanos,
            int moveSlots, PrintStream out, PrintStream err) throws Exception {
        KvClientConfig clientConfig = KvClientConfig.of(target.clientAddresses(), target.clusterId())
                .withDeadline(OPERATION_DEADLINE, ATTEMPT_TIMEOUT).withTls(tlsContext);
        int clientCount = (settings.clients() + WORKERS_PER_CLIENT - 1) / WORKERS_PER_CLIENT;
        List<KvClient> kvClients = new ArrayList<>();
        try {
            for (int i = 0; i < clientCount; i++) {
                kvClients.add(new KvClient(clientConfig));
            }
            out.printf(Locale.ROOT, "bench kv: workload %s (defaults %s; flags override them), %s, %s%d %s, %d keys of %d B, "
                            + "values %d B (key + value %d B), %s keys, %s reads, mix %s%s%n",
                    settings.workload().name(), settings.workload().description(), loopText(settings),
                    settings.ramp() != null && !settings.ramp().openLoop() ? "up to " : "", settings.clients(),
                    settings.ramp() != null && settings.ramp().openLoop() ? "workers" : "clients", settings.keys(), KeySpace.KEY_SIZE_BYTES, settings.valueSizeBytes(),
                    KeySpace.KEY_SIZE_BYTES + settings.valueSizeBytes(),
                    settings.distribution().name().toLowerCase(Locale.ROOT), settings.consistency(), mixText(settings.mix()),
                    settings.mgetKeys() > 0 ? ", each read a multi-get of " + settings.mgetKeys() + " keys" : "");
            try {
                kvClients.get(0).get(KeySpace.key(0), settings.consistency());
            } catch (RuntimeException e) {
                err.println("error: could not reach the cluster at " + target.clientAddresses() + ": " + e.getMessage());
                return 1;
            }
            KeySpace keySpace = new KeySpace(settings.keys(), settings.distribution());
            List<ByteString> values = valuePool(settings.valueSizeBytes(), settings.seed());
            ErrorKinds errorKinds = new ErrorKinds();
            List<ClientWorker> workers = new ArrayList<>();
            for (int i = 0; i < settings.clients(); i++) {
                workers.add(new ClientWorker(kvClients.get(i / WORKERS_PER_CLIENT), settings, keySpace, values,
                        settings.seed() * 1_000_003L + i, errorKinds));
            }
            if (settings.preload() && !preload(settings, workers, out, err)) {
                return 1;
            }
            if (settings.ramp() != null) {
                return RampRun.measure(settings, workers, errorKinds, out, err);
            }
            if (moveEveryNanos == 0) {
                return measure(settings, workers, errorKinds, out, err);
            }
            try (SlotMover mover = new SlotMover(kvClients.get(0), moveEveryNanos, moveSlots, settings.seed(), err)) {
                try {
                    mover.start();
                } catch (IllegalStateException e) {
                    err.println("error: " + e.getMessage());
                    return 2;
                }
                int code = measure(settings, workers, errorKinds, out, err);
                out.println(mover.summary());
                return code;
            }
        } finally {
            for (KvClient client : kvClients) {
                client.close();
            }
        }
    }

    private static String loopText(KvBenchSettings settings) {
        RampSettings ramp = settings.ramp();
        if (ramp != null) {
            return String.format(Locale.ROOT, "%s ramp of %s %d to %d by %d every %s (%d levels, %s warm-up at the first level)",
                    ramp.openLoop() ? "open-loop" : "closed-loop", ramp.openLoop() ? "target ops/s" : "clients", ramp.levels().get(0),
                    ramp.lastLevel(), ramp.spec().stepLevel(), RampReport.formatDuration(ramp.spec().everyNanos()), ramp.levels().size(),
                    RampReport.formatDuration(settings.warmupNanos()));
        }
        return settings.rateOpsPerSecond() > 0 ? String.format(Locale.ROOT, "open loop at %.0f ops/s", settings.rateOpsPerSecond()) : "closed loop";
    }

    private static String mixText(OperationMix mix) {
        StringBuilder text = new StringBuilder();
        mix.asMap().forEach((type, share) -> {
            if (share > 0) {
                text.append(text.isEmpty() ? "" : "/").append(type.label()).append(' ')
                        .append(String.format(Locale.ROOT, "%.0f%%", share * 100));
            }
        });
        return text.toString();
    }

    /** A few random (incompressible) values, seeded. */
    static List<ByteString> valuePool(int valueSizeBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<ByteString> values = new ArrayList<>();
        for (int i = 0; i < VALUE_POOL_SIZE; i++) {
            byte[] bytes = new byte[valueSizeBytes];
            random.nextBytes(bytes);
            values.add(ByteString.copyFrom(bytes));
        }
        return List.copyOf(values);
    }

    /** Writes every key once with all workers; false (after saying why) when nothing could be written. */
    private static boolean preload(KvBenchSettings settings, List<ClientWorker> workers, PrintStream out, PrintStream err)
            throws InterruptedException {
        AtomicLong next = new AtomicLong();
        LongAdder loaded = new LongAdder();
        LongAdder failed = new LongAdder();
        AtomicReference<String> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ClientWorker worker : workers) {
                executor.submit(() -> {
                    int batch = settings.preloadBatchKeys();
                    long from;
                    while ((from = next.getAndAdd(batch)) < settings.keys()) {
                        int count = (int) Math.min(batch, settings.keys() - from);
                        try {
                            worker.load(from, count);
                            loaded.add(count);
                        } catch (RuntimeException e) {
                            failed.add(count);
                            firstError.compareAndSet(null, e.toString());
                        }
                    }
                });
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "preload: %d keys written in %.1f s (%.0f keys/s), %d failed%s%n", loaded.sum(), seconds,
                loaded.sum() / seconds, failed.sum(), firstError.get() == null ? "" : "; first error: " + firstError.get());
        if (loaded.sum() == 0) {
            err.println("error: the preload wrote nothing: " + firstError.get());
            return false;
        }
        return true;
    }

    private static int measure(KvBenchSettings settings, List<ClientWorker> workers, ErrorKinds errorKinds, PrintStream out,
            PrintStream err) throws InterruptedException, IOException {
        OpStats stats = new OpStats();
        long start = System.nanoTime();
        LoadLoop loop = new LoadLoop(NanoClock.SYSTEM, start, settings.warmupNanos(), settings.durationNanos(),
                settings.rateOpsPerSecond(), stats);
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bench-progress");
            thread.setDaemon(true);
            return thread;
        });
        long[] lastCompleted = {0};
        progress.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            long completed = loop.completed();
            boolean warming = now < loop.measureFromNanos();
            Histogram soFar = stats.overall();
            err.printf(Locale.ROOT, "[%4.0fs] %-7s %8d ops/s  errors %d  p99 so far %s%n", (now - start) / 1e9,
                    warming ? "warmup" : "run", completed - lastCompleted[0], loop.completedErrors(),
                    warming || soFar.getTotalCount() == 0 ? "-" : String.format(Locale.ROOT, "%.2f ms", soFar.getValueAtPercentile(99) / 1e6));
            lastCompleted[0] = completed;
        }, 1, 1, TimeUnit.SECONDS);
        List<Future<?>> running = new ArrayList<>();
        long finished;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ClientWorker worker : workers) {
                running.add(executor.submit(() -> {
                    loop.run(worker);
                    return null;
                }));
            }
            for (Future<?> future : running) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("a bench worker failed: " + e.getCause(), e.getCause());
                }
            }
            finished = System.nanoTime();
        } finally {
            progress.shutdownNow();
            // So no progress line lands after the report (the JSON line must be last).
            progress.awaitTermination(5, TimeUnit.SECONDS);
        }
        long elapsed = Math.max(1, finished - loop.measureFromNanos());
        report(settings, stats, loop.unsent(), errorKinds, elapsed, out);
        Histogram overall = stats.overall();
        if (overall.getTotalCount() == 0 && stats.totalErrors() > 0) {
            err.println("error: no operation succeeded in the measured phase");
            return 1;
        }
        return 0;
    }

    /** The whole measured phase's report (for a ramp: all levels together), ending with the JSON line when asked. */
    static void report(KvBenchSettings settings, OpStats stats, long unsent, ErrorKinds errorKinds, long elapsedNanos,
            PrintStream out) throws IOException {
        Histogram overall = stats.overall();
        out.println();
        out.println("latency per operation (us)   count      p50      p90      p99    p99.9      max   errors");
        Map<String, Histogram> series = new LinkedHashMap<>();
        for (OpType type : OpType.values()) {
            Histogram histogram = stats.latencies(type);
            long errors = stats.errors(type);
            if (histogram.getTotalCount() == 0 && errors == 0) {
                continue;
            }
            String label = type == OpType.READ && settings.mgetKeys() > 0 ? "read (mget " + settings.mgetKeys() + " keys)" : type.label();
            series.put(label, histogram);
            out.printf(Locale.ROOT, "  %-26s %7d %8d %8d %8d %8d %8d %8d%n", label, histogram.getTotalCount(),
                    micros(histogram, 50), micros(histogram, 90), micros(histogram, 99), micros(histogram, 99.9),
                    histogram.getTotalCount() == 0 ? 0 : histogram.getMaxValue() / 1000, errors);
        }
        if (settings.mgetKeys() > 0 && elapsedNanos > 0) {
            long reads = stats.latencies(OpType.READ).getTotalCount();
            out.printf(Locale.ROOT, "  keys read by multi-gets: %.0f keys/s (%d per multi-get)%n",
                    reads * (double) settings.mgetKeys() / (elapsedNanos / 1e9), settings.mgetKeys());
        }
        if (stats.conflicts() > 0) {
            out.printf(Locale.ROOT, "  rmw compare-and-set conflicts (counted as completed): %d%n", stats.conflicts());
        }
        if (unsent > 0) {
            out.printf(Locale.ROOT, "  open loop fell behind: %d operations due before the end were never sent%n", unsent);
        }
        for (String kind : errorKinds.top(5)) {
            out.println("  error: " + kind);
        }
        LatencyReport report = new LatencyReport("bench kv " + settings.workload().name() + " (all operations, measured phase"
                + (settings.ramp() == null ? ")" : ", all ramp levels together, settling included)"),
                overall, overall.getTotalCount(), stats.totalErrors(), elapsedNanos);
        report.printSummary(out);
        if (settings.hgrmFile() != null) {
            writeHgrm(settings.hgrmFile(), overall);
            out.println("  percentile distribution: " + settings.hgrmFile());
        }
        if (settings.plotFile() != null) {
            String title = String.format(Locale.ROOT, "loomkv bench kv %s: %d clients, %d B values, %.0f ops/s",
                    settings.workload().name(), settings.clients(), settings.valueSizeBytes(), report.throughputPerSecond());
            Files.writeString(settings.plotFile(), PercentilePlot.render(title, series), StandardCharsets.UTF_8);
            out.println("  percentile plot: " + settings.plotFile());
        }
        if (settings.json()) {
            out.println(report.toJsonLine());
        }
        out.flush();
    }

    private static long micros(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? 0 : histogram.getValueAtPercentile(percentile) / 1000;
    }

    /** HdrHistogram's percentile distribution, values in microseconds. */
    static void writeHgrm(Path file, Histogram latencyNanos) throws IOException {
        try (PrintStream stream = new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
            latencyNanos.outputPercentileDistribution(stream, 1000.0);
        }
    }
}
