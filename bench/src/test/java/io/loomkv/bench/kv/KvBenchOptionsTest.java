package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.ReadConsistency;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
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
        assertEquals(4096, settings.valueSizeBytes());
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
}
