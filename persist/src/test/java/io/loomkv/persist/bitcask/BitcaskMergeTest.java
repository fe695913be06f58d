package io.loomkv.persist.bitcask;

import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertAbsent;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertContents;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.key;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.metadata;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BitcaskMergeTest {
    private static final int KEYS = 2000;

    @TempDir
    Path dir;

    /** Fills several files with overwritten and deleted keys; returns the model. */
    private static NavigableMap<byte[], byte[]> fill(BitcaskStore store, Random random, int rounds) {
        NavigableMap<byte[], byte[]> model = BitcaskTestSupport.newModel();
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < KEYS; i += 10) {
                BitcaskBatch batch = new BitcaskBatch();
                for (int k = i; k < i + 10; k++) {
                    if (round > 0 && random.nextInt(10) == 0) {
                        batch.delete(key(k));
                        model.remove(key(k));
                    } else {
                        byte[] value = value(random, 50 + random.nextInt(100));
                        batch.put(key(k), value);
                        model.put(key(k), value);
                    }
                }
                store.write(batch.metadata(metadata(round * KEYS + i)), false);
            }
        }
        return model;
    }

    @Test
    void writesBetweenTheMergeScanAndItsKeySwapWin() throws Exception {
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        Random random = new Random(7);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            NavigableMap<byte[], byte[]> model = fill(store, random, 3);
            store.write(new BitcaskBatch().put(key(KEYS + 1), new byte[] {1}), false); // the active file holds something newer
            // Every record the merge copied is live when it reads it; these writes come after, and must win.
            store.mergeCommittedHook = () -> {
                BitcaskBatch batch = new BitcaskBatch();
                for (int k = 0; k < KEYS; k += 7) {
                    if (k % 2 == 0) {
                        byte[] newer = value(random, 20);
                        batch.put(key(k), newer);
                        model.put(key(k), newer);
                    } else {
                        batch.delete(key(k));
                        model.remove(key(k));
                    }
                }
                store.write(batch, false);
            };
            long liveBefore = model.size();
            MergeResult result = store.merge();
            store.mergeCommittedHook = null;
            model.put(key(KEYS + 1), new byte[] {1});
            assertTrue(result.inputFiles() > 1, "merge had " + result);
            assertTrue(result.recordsSuperseded() > 0 && result.recordsSuperseded() <= KEYS / 7 + 1,
                    "superseded " + result.recordsSuperseded() + " of " + liveBefore + " copied: " + result);
            assertContents(model, store, "after the merge");
            assertAbsent(model, store, KEYS, "after the merge");
            assertEquals(0, countFiles(".data") - 1, "every immutable data file was merged and deleted");
        }
        try (BitcaskStore store = BitcaskStore.open(options)) {
            NavigableMap<byte[], byte[]> reopened = BitcaskTestSupport.newModel();
            try (BitcaskView view = store.openView()) {
                view.iterator().forEachRemaining(kv -> reopened.put(kv.key(), kv.value()));
            }
            for (int k = 0; k < KEYS; k += 7) {
                if (k % 2 == 1) {
                    assertFalse(reopened.containsKey(key(k)), "key " + k + " deleted during the merge came back after reopen");
                }
            }
        }
    }

    @Test
    void mergeUnderConcurrentOverwritesKeepsEveryLatestValue() throws Exception {
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        long seed = 20261206L;
        Random random = new Random(seed);
        NavigableMap<byte[], byte[]> latest = new ConcurrentSkipListMap<>(java.util.Arrays::compareUnsigned);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            latest.putAll(fill(store, random, 2));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> writerFailure = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                Random writes = new Random(seed + 1);
                try {
                    while (!stop.get()) {
                        BitcaskBatch batch = new BitcaskBatch();
                        int k = writes.nextInt(KEYS);
                        if (writes.nextInt(8) == 0) {
                            batch.delete(key(k));
                            store.write(batch, false);
                            latest.remove(key(k));
                        } else {
                            byte[] value = value(writes, 30 + writes.nextInt(200));
                            batch.put(key(k), value);
                            store.write(batch, false);
                            latest.put(key(k), value);
                        }
                    }
                } catch (Throwable t) {
                    writerFailure.set(t);
                }
            });
            long superseded = 0;
            for (int merges = 0; merges < 8; merges++) {
                MergeResult result = store.merge();
                superseded += result.recordsSuperseded();
                for (int probe = 0; probe < 200; probe++) {
                    store.get(key(random.nextInt(KEYS))); // reads race with the merge's retirement of files
                }
            }
            stop.set(true);
            writer.join();
            assertEquals(null, writerFailure.get(), "seed " + seed + ": the writer failed");
            assertContents(latest, store, "seed " + seed + " (" + superseded + " records superseded during merges)");
            assertAbsent(latest, store, KEYS, "seed " + seed);
        }
        try (BitcaskStore store = BitcaskStore.open(options)) {
            assertContents(latest, store, "seed " + seed + " after reopen");
            assertAbsent(latest, store, KEYS, "seed " + seed + " after reopen");
        }
    }

    @Test
    void mergeKeepsTheNewestMetadataAndReclaimsSpace() throws Exception {
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            NavigableMap<byte[], byte[]> model = fill(store, new Random(3), 4);
            long diskBefore = store.sizes().diskBytes();
            // Rotate so that the group with the newest metadata sits in an immutable file the merge consumes.
            BitcaskBatch filler = new BitcaskBatch();
            byte[] big = new byte[4000];
            java.util.Arrays.fill(big, (byte) 7);
            for (int i = 0; i < 15; i++) {
                filler.put(key(KEYS + 10), big);
            }
            store.write(filler.metadata(metadata(999_999)), false);
            store.write(new BitcaskBatch().put(key(KEYS + 10), big), false);
            model.put(key(KEYS + 10), big);
            store.merge();
            assertArrayEquals(metadata(999_999), store.metadata());
            assertTrue(store.sizes().diskBytes() < diskBefore / 2, "merge reclaimed too little: " + diskBefore + " -> " + store.sizes());
            assertEquals(store.sizes().liveRecordBytes() > 0, true);
            assertContents(model, store, "after merge");
        }
        try (BitcaskStore store = BitcaskStore.open(options)) {
            assertArrayEquals(metadata(999_999), store.metadata(), "metadata survives the merge and a reopen");
        }
    }

    private long countFiles(String suffix) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        }
    }
}
