package io.loomkv.persist.bitcask;

import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertViewEquals;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.key;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.metadata;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.engine.KeyValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableMap;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A view is a frozen point in time while writes, deletes and merges go on, and it keeps its files alive. */
class BitcaskViewTest {
    private static final int KEYS = 1500;

    @TempDir
    Path dir;

    private static NavigableMap<byte[], byte[]> fill(BitcaskStore store, Random random) {
        NavigableMap<byte[], byte[]> model = BitcaskTestSupport.newModel();
        for (int i = 0; i < KEYS; i += 5) {
            BitcaskBatch batch = new BitcaskBatch().metadata(metadata(i));
            for (int k = i; k < i + 5; k++) {
                byte[] v = value(random, 20 + random.nextInt(150));
                batch.put(key(k), v);
                model.put(key(k), v);
            }
            store.write(batch, false);
        }
        return model;
    }

    @Test
    void viewsStayConsistentWhileWritesAndMergesRun() throws Exception {
        long seed = 20261206L;
        Random random = new Random(seed);
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            NavigableMap<byte[], byte[]> model = fill(store, random);
            BitcaskView view = store.openView();
            NavigableMap<byte[], byte[]> frozen = BitcaskTestSupport.newModel();
            frozen.putAll(model);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                Random writes = new Random(seed + 1);
                try {
                    while (!stop.get()) {
                        int k = writes.nextInt(KEYS + 200); // overwrites, deletes and keys the view never had
                        BitcaskBatch batch = new BitcaskBatch();
                        if (writes.nextInt(4) == 0) {
                            batch.delete(key(k));
                        } else {
                            batch.put(key(k), value(writes, 10 + writes.nextInt(200)));
                        }
                        store.write(batch, false);
                        if (writes.nextInt(500) == 0) {
                            store.deleteRange(key(k), key(k + 40), null, false);
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            Thread merger = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 5 && !stop.get(); i++) {
                        store.merge();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            try {
                for (int pass = 0; pass < 4; pass++) {
                    assertViewEquals(frozen, view, "seed " + seed + " pass " + pass);
                    assertArrayEquals(metadata(KEYS - 5), view.metadata());
                    assertEquals(KEYS, view.keyCount());
                    assertNull(view.get(key(KEYS + 100)), "a key written after the view");
                    List<byte[]> range = new ArrayList<>();
                    view.iterator(key(100), key(200)).forEachRemaining(kv -> range.add(kv.key()));
                    assertEquals(100, range.size(), "range [100, 200) of the view");
                    assertArrayEquals(key(100), range.get(0));
                    assertArrayEquals(key(199), range.get(99));
                }
            } finally {
                stop.set(true);
                writer.join();
                merger.join();
            }
            assertNull(failure.get(), () -> "seed " + seed + ": " + failure.get());
            assertViewEquals(frozen, view, "seed " + seed + " after the writer stopped");
            view.close();
            assertThrows(IllegalStateException.class, () -> view.get(key(1)));
        }
    }

    @Test
    void filesAViewHoldsOutliveTheMergeUntilItCloses() throws Exception {
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            NavigableMap<byte[], byte[]> model = fill(store, new Random(5));
            List<Path> before = dataFiles();
            BitcaskView view = store.openView();
            Iterator<KeyValue> halfway = view.iterator();
            for (int i = 0; i < 10; i++) {
                halfway.next();
            }
            for (int k = 0; k < KEYS; k++) {
                store.write(new BitcaskBatch().delete(key(k)), false); // every key the view holds is now dead
            }
            for (int i = 0; i < 20; i++) { // start a new active file, so that every file above is merged
                store.write(new BitcaskBatch().put(new byte[] {(byte) 0xFF}, new byte[4000]), false);
            }
            store.merge();
            assertEquals(1, store.sizes().keyCount());
            List<Long> live = store.liveFileIds();
            List<Path> retired = before.stream()
                    .filter(p -> !live.contains(DataFileName.parse(p.getFileName().toString()).id())).toList();
            assertEquals(before.size(), retired.size(), "every file the view holds was merged away");
            for (Path file : retired) {
                assertTrue(Files.exists(file), file + " was deleted while a view held it");
            }
            int rest = 0;
            while (halfway.hasNext()) {
                KeyValue kv = halfway.next();
                assertArrayEquals(model.get(kv.key()), kv.value());
                rest++;
            }
            assertEquals(KEYS - 10, rest, "an iteration begun before the merge finishes after it");
            assertTrue(store.sizes().diskBytes() > 0);
            view.close();
            for (Path file : retired) {
                assertFalse(Files.exists(file), file + " outlived the view that held it");
            }
            assertFalse(Files.list(dir).anyMatch(p -> p.getFileName().toString().endsWith(".commit")),
                    "the merge's commit record goes with its last input");
        }
    }

    private List<Path> dataFiles() throws Exception {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".data")).sorted().toList();
        }
    }
}
