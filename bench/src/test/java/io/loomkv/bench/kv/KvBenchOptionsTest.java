package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.ReadConsistency;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KvBenchOptionsTest {
    private static KvBenchSettings parse(String... args) {
        KvBenchCommand command = new KvBenchCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    private static String error(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> parse(args)).getMessage();
    }

    @Test
    void defaultsAreTheSeedWorkload() {
        KvBenchSettings settings = parse();
        assertEquals(Workload.SEED, settings.workload());
        // The design notes' test: 16-byte keys, values of 4 KB minus the key, 50/50, uniform.
        assertEquals(4080, settings.valueSizeBytes());
        assertEquals(4096, KeySpace.KEY_SIZE_BYTES + settings.valueSizeBytes());
        assertEquals(0.5, settings.mix().read(), 1e-12);
        assertEquals(0.5, settings.mix().update(), 1e-12);
        assertNull(settings.ramp());
        assertEquals(256, settings.clients());
        assertEquals(KeyDistribution.UNIFORM, settings.distribution());
        assertEquals(ReadConsistency.LINEARIZABLE, settings.consistency());
        assertEquals(TimeUnit.SECONDS.toNanos(3), settings.warmupNanos());
        assertEquals(TimeUnit.SECONDS.toNanos(20), settings.durationNanos());
        assertEquals("conf/local-3node", settings.cluster());
        assertTrue(settings.preload());
        assertEquals(1, settings.preloadBatchKeys());
        assertEquals(0, settings.rateOpsPerSecond());
        assertNull(settings.plotFile());
    }

    @Test
    void explicitFlagsOverrideTheWorkload() {
        KvBenchSettings settings = parse("--workload", "b", "--value-size", "128", "--read-ratio", "0.5",
                "--distribution", "uniform", "--consistency", "stale", "--warmup", "500ms", "--duration", "2m",
                "--no-preload", "--rate", "5000", "--clients", "8", "--keys", "100", "--cluster", "127.0.0.1:7101");
        assertEquals(Workload.B, settings.workload());
        assertEquals(128, settings.valueSizeBytes());
        assertEquals(0.5, settings.mix().read(), 1e-12);
        assertEquals(0.5, settings.mix().update(), 1e-12);
        assertEquals(KeyDistribution.UNIFORM, settings.distribution());
        assertEquals(ReadConsistency.SERIALIZABLE, settings.consistency());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(500), settings.warmupNanos());
        assertEquals(TimeUnit.MINUTES.toNanos(2), settings.durationNanos());
        assertEquals(false, settings.preload());
        assertEquals(5000, settings.rateOpsPerSecond());
        assertEquals(256, parse("--preload-batch", "256").preloadBatchKeys());
        Workload a = parse("--workload", "A").workload();
        assertEquals(KeyDistribution.ZIPFIAN, parse("--workload", "A").distribution());
        assertEquals(1000, parse("--workload", "A").valueSizeBytes());
        assertEquals(Workload.A, a);
    }

    @Test
    void theSeedPresetIsNamedAndExplicitFlagsOverrideIt() {
        KvBenchSettings seed = parse("--workload", "seed");
        assertEquals(Workload.SEED, seed.workload());
        assertEquals(4080, seed.valueSizeBytes());
        assertEquals(KeyDistribution.UNIFORM, seed.distribution());
        KvBenchSettings overridden = parse("--workload", "SEED", "--value-size", "1000", "--read-ratio", "0.9", "--distribution", "zipfian");
        assertEquals(Workload.SEED, overridden.workload());
        assertEquals(1000, overridden.valueSizeBytes());
        assertEquals(0.9, overridden.mix().read(), 1e-12);
        assertEquals(0.1, overridden.mix().update(), 1e-12);
        assertEquals(KeyDistribution.ZIPFIAN, overridden.distribution());
    }

    @Test
    void aClosedLoopRampSetsTheClientsAndTheDuration() {
        KvBenchSettings settings = parse("--ramp", "64:64:10s:512", "--p99-bound", "50ms");
        RampSettings ramp = settings.ramp();
        assertEquals(List.of(64L, 128L, 192L, 256L, 320L, 384L, 448L, 512L), ramp.levels());
        assertEquals(false, ramp.openLoop());
        // One worker per client of the highest level; the run is the ramp's length, not --duration's default.
        assertEquals(512, settings.clients());
        assertEquals(TimeUnit.SECONDS.toNanos(80), settings.durationNanos());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(50), ramp.p99BoundNanos());
        assertEquals(Path.of("bench-kv-ramp.svg"), ramp.plotFile());
        // An explicit --duration cuts the ramp short; without MAX, --duration alone sets the levels.
        assertEquals(List.of(64L, 128L, 192L), parse("--ramp", "64:64:10s:512", "--duration", "35s").ramp().levels());
        assertEquals(List.of(1000L, 1500L), parse("--ramp", "1000:500:10s").ramp().levels());
        assertEquals(RampReport.NO_BOUND, parse("--ramp", "1:1:2s").ramp().p99BoundNanos());
        // The ramp plot goes next to the other report files.
        assertEquals(Path.of("out", "seed-ramp.svg"), parse("--ramp", "1:1:2s", "--plot", "out/seed.svg").ramp().plotFile());
        assertEquals(Path.of("out", "l-ramp.svg"), parse("--ramp", "1:1:2s", "--hgrm", "out/l.hgrm").ramp().plotFile());
        assertEquals(Path.of("r.svg"), parse("--ramp", "1:1:2s", "--plot", "out/seed.svg", "--ramp-plot", "r.svg").ramp().plotFile());
    }

    @Test
    void anOpenLoopRampRampsTheRateWithTheGivenWorkers() {
        KvBenchSettings settings = parse("--ramp", "1000:500:5s:3000", "--open-loop", "--clients", "64");
        assertEquals(List.of(1000L, 1500L, 2000L, 2500L, 3000L), settings.ramp().levels());
        assertTrue(settings.ramp().openLoop());
        assertEquals(64, settings.clients());
        assertEquals(0, settings.rateOpsPerSecond());
        assertEquals(TimeUnit.SECONDS.toNanos(25), settings.durationNanos());
    }

    @Test
    void badRampsGetClearErrors() {
        assertTrue(error("--ramp", "64:64").contains("START:STEP:EVERY[:MAX]"));
        assertTrue(error("--ramp", "a:1:2s").contains("START:STEP:EVERY[:MAX]"));
        assertTrue(error("--ramp", "1:1:2s:3:4").contains("START:STEP:EVERY[:MAX]"));
        assertTrue(error("--ramp", "0:1:2s").contains("START must be at least 1"));
        assertTrue(error("--ramp", "-5:1:2s").contains("START must be at least 1"));
        assertTrue(error("--ramp", "1:0:2s").contains("STEP must be at least 1"));
        assertTrue(error("--ramp", "64:64:10s:32").contains("MAX must be at least START (64)"));
        assertTrue(error("--ramp", "64:64:10s:0").contains("MAX must be at least START"));
        assertTrue(error("--ramp", "64:64:1s").contains("EVERY must be at least 2s"));
        assertTrue(error("--ramp", "64:64:1500ms").contains("EVERY must be at least 2s"));
        assertTrue(error("--ramp", "64:64:ten").contains("--ramp EVERY"));
        assertTrue(error("--ramp", "64:64:30s").contains("shorter than one --ramp level"));
        assertTrue(error("--ramp", "4000:100:2s:4200").contains("above the limit of 4096"));
        assertTrue(error("--ramp", "1:1:2s:5000").contains("longer than the limit of 1h"));
        assertTrue(error("--ramp", "1:1:2s", "--rate", "100").contains("add --open-loop"));
        assertTrue(error("--ramp", "1:1:2s", "--clients", "8").contains("--clients does not go with a closed-loop --ramp"));
        assertTrue(error("--open-loop").contains("--open-loop needs --ramp"));
        assertTrue(error("--p99-bound", "50ms").contains("--p99-bound needs --ramp"));
        assertTrue(error("--ramp-plot", "r.svg").contains("--ramp-plot needs --ramp"));
        assertTrue(error("--ramp", "1:1:2s", "--p99-bound", "0ms").contains("--p99-bound must be above 0"));
        assertTrue(error("--ramp", "1:1:2s", "--p99-bound", "fast").contains("--p99-bound"));
    }

    @Test
    void badOptionsGetClearErrors() {
        assertTrue(error("--clients", "0").contains("--clients"));
        assertTrue(error("--clients", "100000").contains("--clients"));
        assertTrue(error("--rate", "-1").contains("--rate"));
        assertTrue(error("--rate", "1e9").contains("--rate"));
        assertTrue(error("--keys", "0").contains("--keys"));
        assertTrue(error("--keys", "100000000000").contains("--keys"));
        assertTrue(error("--value-size", "0").contains("--value-size"));
        assertTrue(error("--value-size", "2000000").contains("--value-size"));
        assertTrue(error("--read-ratio", "1.2").contains("--read-ratio"));
        assertTrue(error("--workload", "G").contains("--workload"));
        assertTrue(error("--distribution", "pareto").contains("--distribution"));
        assertTrue(error("--consistency", "eventual").contains("--consistency"));
        assertTrue(error("--duration", "ten").contains("--duration"));
        assertTrue(error("--duration", "0s").contains("--duration"));
        assertTrue(error("--duration", "2h").contains("--duration"));
        assertTrue(error("--warmup", "11m").contains("--warmup"));
        assertTrue(error("--preload-batch", "0").contains("--preload-batch"));
        assertTrue(error("--preload-batch", "1025").contains("--preload-batch"));
    }

    @Test
    void badOptionsExitWithTwoAndTouchNothing() {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int code = new CommandLine(new KvBenchCommand()).execute("--clients", "0");
            assertEquals(2, code);
        } finally {
            System.setErr(originalErr);
        }
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains("--clients must be in 1..4096"), captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aBadRampExitsWithTwoAndWritesNoPlot(@TempDir Path dir) {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        Path plot = dir.resolve("ramp.svg");
        try {
            assertEquals(2, new CommandLine(new KvBenchCommand()).execute("--ramp", "64:64:1s:512", "--ramp-plot", plot.toString()));
        } finally {
            System.setErr(originalErr);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("error: --ramp EVERY must be at least 2s"), text);
        assertTrue(Files.notExists(plot));
    }

    @Test
    void anUnknownClusterFolderOrAddressIsAnOptionError() {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertEquals(2, new CommandLine(new KvBenchCommand()).execute("--cluster", "not-a-host-port"));
        } finally {
            System.setErr(originalErr);
        }
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains("--cluster"), captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void mgetKeysIsOffByDefaultAndBoundedByTheServersLimit() {
        assertEquals(0, parse().mgetKeys());
        assertEquals(100, parse("--mget-keys", "100").mgetKeys());
        assertEquals(1024, parse("--mget-keys", "1024").mgetKeys());
        assertTrue(error("--mget-keys", "1025").contains("--mget-keys must be in 0..1024"));
        assertTrue(error("--mget-keys", "-1").contains("--mget-keys must be in 0..1024"));
        assertTrue(error("--read-ratio", "0", "--mget-keys", "10").contains("the mix has no reads"));
    }
}
