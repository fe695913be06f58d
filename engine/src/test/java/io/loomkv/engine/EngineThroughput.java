package io.loomkv.engine;

import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.engine.btree.MvStoreKvEngine;
import io.loomkv.engine.btree.MvStoreOptions;
import io.loomkv.engine.rocksdb.RocksDbKvEngine;
import io.loomkv.engine.rocksdb.RocksDbOptions;
import io.loomkv.persist.engine.MemoryKvEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Single-threaded put and get throughput of each engine, for docs/engines.md: not a test, nothing
 * asserted. Keys are 16 bytes in random order (as the seed workload's); puts go through the indexed
 * write (one Raft group), one operation per write and then 64 per write, with writes not synced
 * (the engines' default: the Raft log is synced instead); gets read random keys that exist. Each
 * configuration runs twice on a fresh directory and the second run is printed (the first warms
 * the JIT). The last column is the engine's bytes on disk per key after the batched load and the
 * gets (random values: nothing to compress), a sign of space amplification before compaction.
 *
 * <p>Run: {@code java -cp <test classpath> io.loomkv.engine.EngineThroughput [directory] [keys128] [keys4k]}
 */
public final class EngineThroughput {
    private static final int KEY_BYTES = 16;

    private EngineThroughput() {
    }

    public static void main(String[] args) throws IOException {
        Path base = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir")).resolve("engine-throughput");
        int keysSmall = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        int keysLarge = args.length > 2 ? Integer.parseInt(args[2]) : 40_000;
        System.out.printf("%-8s %6s %8s %14s %14s %14s %12s%n", "engine", "value", "keys", "put/s (1/wr)", "put/s (64/wr)", "get/s",
                "disk B/key");
        for (String engine : List.of("memory", "rocksdb", "btree")) {
            for (int[] shape : new int[][] {{128, keysSmall}, {4096, keysLarge}}) {
                run(base, engine, shape[0], shape[1]);
                System.out.println(run(base, engine, shape[0], shape[1]));
            }
        }
    }

    private static String run(Path base, String name, int valueBytes, int keys) throws IOException {
        Random random = new Random(42);
        List<byte[]> keyList = new ArrayList<>(keys);
        for (int i = 0; i < keys; i++) {
            byte[] key = new byte[KEY_BYTES];
            random.nextBytes(key);
            keyList.add(key);
        }
        byte[] value = new byte[valueBytes];
        random.nextBytes(value);
        double singlePuts = measurePuts(base, name, keyList, value, 1);
        double batchedPuts;
        double gets;
        String disk = "-";
        Path directory = fresh(base);
        try (KvEngine engine = open(name, directory)) {
            batchedPuts = puts(engine, keyList, value, 64);
            long started = System.nanoTime();
            long found = 0;
            for (int i = 0; i < keys; i++) {
                found += engine.get(keyList.get(random.nextInt(keys))) != null ? 1 : 0;
            }
            gets = keys / seconds(started);
            if (found != keys) {
                throw new IllegalStateException(name + ": found " + found + " of " + keys + " keys");
            }
            if (engine instanceof PersistentKvEngine persistent) {
                persistent.sync();
                disk = String.format("%.0f", persistent.sizes().diskBytes() / (double) keys);
            }
        }
        return String.format("%-8s %6d %8d %14.0f %14.0f %14.0f %12s", name, valueBytes, keys, singlePuts, batchedPuts, gets, disk);
    }

    private static double measurePuts(Path base, String name, List<byte[]> keys, byte[] value, int perWrite) throws IOException {
        try (KvEngine engine = open(name, fresh(base))) {
            return puts(engine, keys, value, perWrite);
        }
    }

    /** Puts every key, {@code perWrite} to an indexed write; returns puts per second. */
    private static double puts(KvEngine engine, List<byte[]> keys, byte[] value, int perWrite) {
        long started = System.nanoTime();
        long index = 0;
        for (int i = 0; i < keys.size(); i += perWrite) {
            List<WriteOp> ops = new ArrayList<>(perWrite);
            for (int j = i; j < Math.min(keys.size(), i + perWrite); j++) {
                ops.add(new WriteOp.Put(keys.get(j), value));
            }
            WriteBatch batch = new WriteBatch(ops);
            if (engine instanceof PersistentKvEngine persistent) {
                persistent.write(batch, 1, ++index);
            } else {
                engine.write(batch);
            }
        }
        return keys.size() / seconds(started);
    }

    /** Each engine with its shipped defaults (writes not synced). */
    private static KvEngine open(String name, Path directory) {
        return switch (name) {
            case "memory" -> new MemoryKvEngine();
            case "rocksdb" -> RocksDbKvEngine.open(RocksDbOptions.defaults(directory));
            case "btree" -> MvStoreKvEngine.open(MvStoreOptions.defaults(directory.resolve("store.mv.db")));
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static Path fresh(Path base) throws IOException {
        if (Files.exists(base)) {
            try (Stream<Path> files = Files.walk(base)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
        return Files.createDirectories(base);
    }

    private static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }
}
