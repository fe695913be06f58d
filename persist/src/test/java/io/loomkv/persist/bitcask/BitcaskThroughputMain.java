package io.loomkv.persist.bitcask;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * Single-threaded throughput of the store, for docs/bitcask.md (a plain main, not a test, never
 * asserted). Run from persist/ after {@code mvn test-compile} with the test classpath:
 * {@code java -cp ... io.loomkv.persist.bitcask.BitcaskThroughputMain /tmp/bitcask-bench}.
 * Prints: unsynced puts/s and random gets/s with 128 B and 4 KiB values, synced puts/s, a merge,
 * reopen with hints and with a scan, heap per key of the key directory, and the key directory
 * choice (skip list versus hash map plus a sort).
 */
public final class BitcaskThroughputMain {
    private BitcaskThroughputMain() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : "/tmp/bitcask-bench");
        deleteTree(root);
        System.out.printf("BitCask single-threaded throughput, %s, JDK %s, %d cores%n", java.time.LocalDate.now(),
                Runtime.version(), Runtime.getRuntime().availableProcessors());
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up; report both
            System.out.println("-- round " + round);
            measure(root.resolve("r" + round + "-128"), 128, 400_000);
            measure(root.resolve("r" + round + "-4k"), 4096, 100_000);
        }
        synced(root.resolve("sync"));
        keyDirHeap();
        keyDirChoice();
        deleteTree(root);
    }

    /** 64 MiB files (not the default 256), so that the data sets here span several files and the merge has inputs. */
    private static BitcaskOptions options(Path dir) {
        return BitcaskOptions.defaults(dir).withMaxFileSizeBytes(64L << 20);
    }

    private static byte[] key(long i) {
        return String.format("user%012d", i).getBytes(); // 16-byte keys, as in the seed workload
    }

    private static void measure(Path dir, int valueBytes, int keys) throws Exception {
        Random random = new Random(1);
        byte[] value = new byte[valueBytes];
        random.nextBytes(value);
        try (BitcaskStore store = BitcaskStore.open(options(dir))) {
            long start = System.nanoTime();
            for (int i = 0; i < keys; i++) {
                store.write(new BitcaskBatch().put(key(i), value), false);
            }
            double putSeconds = (System.nanoTime() - start) / 1e9;
            int gets = keys;
            start = System.nanoTime();
            long found = 0;
            for (int i = 0; i < gets; i++) {
                found += store.get(key(random.nextInt(keys))).length;
            }
            double getSeconds = (System.nanoTime() - start) / 1e9;
            // Overwrite half, then merge.
            for (int i = 0; i < keys; i += 2) {
                store.write(new BitcaskBatch().put(key(i), value), false);
            }
            store.write(new BitcaskBatch().put(key(0), value), false);
            BitcaskSizes beforeMerge = store.sizes();
            start = System.nanoTime();
            MergeResult merge = store.merge();
            double mergeSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%5d B values, %d keys: put %,.0f/s (%.1f MB/s), get %,.0f/s (%d bytes read); merge %.2f s "
                            + "(%d files, %,d -> %,d bytes on disk, %d records copied)%n",
                    valueBytes, keys, keys / putSeconds, keys * (double) valueBytes / putSeconds / 1e6, gets / getSeconds, found,
                    mergeSeconds, merge.inputFiles(), beforeMerge.diskBytes(), store.sizes().diskBytes(), merge.recordsCopied());
        }
        long start = System.nanoTime();
        try (BitcaskStore store = BitcaskStore.open(options(dir))) {
            System.out.printf("        reopen with hint files: %.2f s for %,d keys%n", (System.nanoTime() - start) / 1e9, store.sizes().keyCount());
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path hint : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".hint"))::iterator) {
                Files.delete(hint);
            }
        }
        start = System.nanoTime();
        try (BitcaskStore store = BitcaskStore.open(options(dir))) {
            System.out.printf("        reopen scanning the data files: %.2f s for %,d keys%n", (System.nanoTime() - start) / 1e9,
                    store.sizes().keyCount());
        }
        deleteTree(dir);
    }

    private static void synced(Path dir) throws Exception {
        byte[] value = new byte[128];
        try (BitcaskStore store = BitcaskStore.open(options(dir))) {
            long start = System.nanoTime();
            int writes = 0;
            while (System.nanoTime() - start < 3_000_000_000L) {
                store.write(new BitcaskBatch().put(key(writes), value).metadata(key(writes)), true);
                writes++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("synced 128 B puts (one fdatasync each): %,.0f/s over %.1f s%n", writes / seconds, seconds);
        }
        deleteTree(dir);
    }

    /** Heap used by a key directory of 1 M 16-byte keys, per key, against the estimate. */
    private static void keyDirHeap() {
        int keys = 1_000_000;
        long before = usedHeapAfterGc();
        KeyDir keyDir = new KeyDir();
        for (int i = 0; i < keys; i++) {
            keyDir.put(key(i), new KeyDirEntry(1, i * 100L, 100, i));
        }
        long after = usedHeapAfterGc();
        System.out.printf("key directory heap: %.1f bytes per 16-byte key measured, %.1f estimated (%d keys)%n",
                (after - before) / (double) keys, keyDir.memoryBytesEstimate() / (double) keys, keyDir.keyCount());
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    /** Skip list (sorted, what the store uses) against a hash map that must sort its keys for each ordered scan. */
    private static void keyDirChoice() {
        int keys = 1_000_000;
        byte[][] all = new byte[keys][];
        for (int i = 0; i < keys; i++) {
            all[i] = key(i);
        }
        Random random = new Random(3);
        int[] order = new int[keys];
        for (int i = 0; i < keys; i++) {
            order[i] = i;
        }
        for (int i = keys - 1; i > 0; i--) { // a random permutation: every key once, in random order
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        Comparator<byte[]> unsigned = Arrays::compareUnsigned;
        for (int round = 0; round < 2; round++) {
            ConcurrentSkipListMap<byte[], KeyDirEntry> skipList = new ConcurrentSkipListMap<>(unsigned);
            ConcurrentHashMap<Bytes, KeyDirEntry> hash = new ConcurrentHashMap<>();
            KeyDirEntry entry = new KeyDirEntry(1, 0, 100, 1);
            long start = System.nanoTime();
            for (int i : order) {
                skipList.put(all[i], entry);
            }
            double skipPut = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            for (int i : order) {
                hash.put(new Bytes(all[i]), entry);
            }
            double hashPut = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            long hits = 0;
            for (int i : order) {
                hits += skipList.get(all[i]) != null ? 1 : 0;
            }
            double skipGet = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            for (int i : order) {
                hits += hash.get(new Bytes(all[i])) != null ? 1 : 0;
            }
            double hashGet = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            byte[][] sorted = hash.keySet().stream().map(Bytes::bytes).sorted(unsigned).toArray(byte[][]::new);
            double sortSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("key directory, 1 M keys, round %d: skip list put %,.0f/s get %,.0f/s; hash map put %,.0f/s get %,.0f/s, "
                            + "sorting its keys for one ordered scan %.2f s (%d hits, %d sorted)%n",
                    round, keys / skipPut, keys / skipGet, keys / hashPut, keys / hashGet, sortSeconds, hits, sorted.length);
        }
    }

    private record Bytes(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Bytes b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    private static void deleteTree(Path root) throws Exception {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }
}
