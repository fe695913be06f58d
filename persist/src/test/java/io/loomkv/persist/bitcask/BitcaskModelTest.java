package io.loomkv.persist.bitcask;

import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertAbsent;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertContents;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertViewEquals;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.key;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.metadata;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Randomized operations against a sorted map: batches of puts and deletes with metadata, range
 * deletes, merges, views, and close-and-reopen in the middle, on small files so that rotation and
 * merge happen often. Every failure message carries the seed; rerun one with
 * {@code -Dloomkv.bitcask.seed=N}.
 */
class BitcaskModelTest {
    private static final int KEY_SPACE = 300;
    private static final int OPS_PER_SEED = 1500;

    @TempDir
    Path root;

    @Test
    void randomOperationsMatchTheModelAcrossReopens() throws Exception {
        Long only = Long.getLong("loomkv.bitcask.seed");
        long[] seeds = only != null ? new long[] {only} : new long[] {20261206L, 1L, 2L};
        for (long seed : seeds) {
            runSeed(seed, root.resolve("seed-" + seed));
        }
    }

    private void runSeed(long seed, Path directory) throws Exception {
        Random random = new Random(seed);
        NavigableMap<byte[], byte[]> model = BitcaskTestSupport.newModel();
        BitcaskOptions options = BitcaskTestSupport.smallOptions(directory);
        BitcaskStore store = BitcaskStore.open(options);
        long applied = 0;
        List<Pending> views = new ArrayList<>();
        try {
            for (int step = 0; step < OPS_PER_SEED; step++) {
                String context = "seed " + seed + " step " + step;
                int choice = random.nextInt(100);
                if (choice < 70) {
                    applied++;
                    BitcaskBatch batch = new BitcaskBatch().metadata(metadata(applied));
                    int ops = 1 + random.nextInt(8);
                    for (int i = 0; i < ops; i++) {
                        byte[] key = key(random.nextInt(KEY_SPACE));
                        if (random.nextInt(5) == 0) {
                            batch.delete(key);
                            model.remove(key);
                        } else {
                            byte[] value = value(random, random.nextInt(400));
                            batch.put(key, value);
                            model.put(key, value);
                        }
                    }
                    store.write(batch, random.nextInt(20) == 0); // fsync is slow here; the crash test covers synced writes
                } else if (choice < 73) {
                    applied++;
                    int from = random.nextInt(KEY_SPACE);
                    int to = from + random.nextInt(30);
                    store.deleteRange(key(from), key(to), metadata(applied), false);
                    model.subMap(key(from), true, key(to), false).clear();
                } else if (choice < 75) {
                    store.merge(); // a merge costs several fsyncs (~20 ms here), so only 2% of steps
                } else if (choice < 79) {
                    if (views.size() < 3) {
                        NavigableMap<byte[], byte[]> frozen = BitcaskTestSupport.newModel();
                        frozen.putAll(model);
                        views.add(new Pending(store.openView(), frozen));
                    } else {
                        Pending pending = views.remove(random.nextInt(views.size()));
                        assertViewEquals(pending.model, pending.view, context + " (view)");
                        pending.view.close();
                    }
                } else if (choice < 81) {
                    closeViews(views, context);
                    store.close();
                    store = BitcaskStore.open(options);
                    assertArrayEquals(applied == 0 ? new byte[0] : metadata(applied), store.metadata(), context + ": metadata after reopen");
                    assertContents(model, store, context + " after reopen");
                } else {
                    byte[] key = key(random.nextInt(KEY_SPACE));
                    assertArrayEquals(model.get(key), store.get(key), context + ": get");
                }
            }
            String context = "seed " + seed + " at the end";
            closeViews(views, context);
            assertContents(model, store, context);
            assertAbsent(model, store, KEY_SPACE, context);
            store.merge();
            store.close();
            store = BitcaskStore.open(options);
            assertContents(model, store, context + ", merged and reopened");
            assertArrayEquals(metadata(applied), store.metadata(), context + ": metadata after the last merge");
            long dataFiles;
            try (var files = Files.list(directory)) {
                dataFiles = files.count();
            }
            assertTrue(dataFiles > 0, context + ": no files at all");
        } finally {
            store.close();
        }
    }

    private static void closeViews(List<Pending> views, String context) {
        for (Pending pending : views) {
            assertViewEquals(pending.model, pending.view, context + " (view)");
            pending.view.close();
        }
        views.clear();
    }

    private record Pending(BitcaskView view, NavigableMap<byte[], byte[]> model) {
    }
}
