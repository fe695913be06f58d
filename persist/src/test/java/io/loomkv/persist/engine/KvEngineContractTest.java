package io.loomkv.persist.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link KvEngine} must have; an engine's test extends this and says how to make one.
 * Public, and shipped in persist's test jar, so the engines of other modules run it too.
 */
public abstract class KvEngineContractTest {
    protected KvEngine engine;

    protected abstract KvEngine newEngine();

    @BeforeEach
    void create() {
        engine = newEngine();
    }

    @AfterEach
    void close() {
        engine.close();
    }

    protected static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static List<KeyValue> all(Iterator<KeyValue> iterator) {
        List<KeyValue> list = new ArrayList<>();
        iterator.forEachRemaining(list::add);
        return list;
    }

    @Test
    void putGetDelete() {
        assertNull(engine.get(bytes("a")));
        engine.put(bytes("a"), bytes("1"));
        engine.put(bytes("b"), bytes("2"));
        engine.put(bytes("a"), bytes("3"));
        assertArrayEquals(bytes("3"), engine.get(bytes("a")));
        engine.delete(bytes("a"));
        engine.delete(bytes("never-there"));
        assertNull(engine.get(bytes("a")));
        assertEquals(1, engine.approximateKeyCount());
        assertTrue(engine.approximateSizeBytes() > 0);
    }

    @Test
    void containsAgreesWithGet() {
        assertFalse(engine.contains(bytes("a")));
        engine.put(bytes("a"), bytes("1"));
        engine.put(bytes("empty"), new byte[0]);
        assertTrue(engine.contains(bytes("a")));
        assertTrue(engine.contains(bytes("empty")), "an empty value is a value");
        assertFalse(engine.contains(bytes("b")));
        assertFalse(engine.contains(new byte[0]));
        engine.write(new WriteBatch(List.of(new WriteOp.Delete(bytes("a")), new WriteOp.Put(bytes("b"), bytes("2")))));
        assertFalse(engine.contains(bytes("a")));
        assertTrue(engine.contains(bytes("b")));
        engine.delete(bytes("empty"));
        assertFalse(engine.contains(bytes("empty")));
        assertNull(engine.get(bytes("empty")));
    }

    @Test
    void scansFollowUnsignedByteOrder() {
        engine.put(new byte[] {(byte) 0x80}, bytes("high"));
        engine.put(new byte[] {0x7F}, bytes("low"));
        engine.put(new byte[] {0x00}, bytes("zero"));
        ScanPage page = engine.scan(ScanRequest.range(new byte[0], null, 10));
        assertArrayEquals(new byte[] {0x00}, page.entries().get(0).key());
        assertArrayEquals(new byte[] {0x7F}, page.entries().get(1).key());
        assertArrayEquals(new byte[] {(byte) 0x80}, page.entries().get(2).key());
        assertFalse(page.hasMore());
    }

    @Test
    void rangeIsHalfOpenAndPrefixScansStayInThePrefix() {
        for (String key : List.of("a", "u/1", "u/2", "u/3", "u0", "v")) {
            engine.put(bytes(key), bytes(key));
        }
        ScanPage range = engine.scan(ScanRequest.range(bytes("u/2"), bytes("v"), 100));
        assertEquals(List.of("u/2", "u/3", "u0"), keys(range));
        ScanPage prefix = engine.scan(ScanRequest.prefix(bytes("u/"), 100));
        assertEquals(List.of("u/1", "u/2", "u/3"), keys(prefix));
        assertTrue(engine.scan(ScanRequest.range(bytes("z"), bytes("a"), 10)).entries().isEmpty());
    }

    @Test
    void pagesWithLimitsCoverTheRangeExactlyOnce() {
        TreeMap<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 1000; i++) {
            String key = String.format("k%04d", i);
            expected.put(key, "v" + i);
            engine.put(bytes(key), bytes("v" + i));
        }
        List<String> seen = new ArrayList<>();
        ScanRequest request = new ScanRequest(bytes("k0100"), bytes("k0900"), 37, Long.MAX_VALUE);
        int pages = 0;
        while (request != null) {
            ScanPage page = engine.scan(request);
            assertTrue(page.entries().size() <= 37);
            seen.addAll(keys(page));
            request = request.next(page);
            pages++;
        }
        assertEquals(new ArrayList<>(expected.subMap("k0100", "k0900").keySet()), seen);
        assertEquals(22, pages);
    }

    @Test
    void maxBytesStopsAPageButAlwaysReturnsOneEntry() {
        engine.put(bytes("a"), new byte[1000]);
        engine.put(bytes("b"), new byte[1000]);
        ScanPage page = engine.scan(new ScanRequest(new byte[0], null, 100, 10));
        assertEquals(1, page.entries().size());
        assertTrue(page.hasMore());
    }

    @Test
    void writeBatchAppliesInOrder() {
        engine.put(bytes("x"), bytes("old"));
        engine.write(new WriteBatch(List.of(new WriteOp.Put(bytes("a"), bytes("1")), new WriteOp.Delete(bytes("x")),
                new WriteOp.Put(bytes("a"), bytes("2")))));
        assertArrayEquals(bytes("2"), engine.get(bytes("a")));
        assertNull(engine.get(bytes("x")));
    }

    @Test
    void aSnapshotIsPointInTime() {
        engine.put(bytes("keep"), bytes("1"));
        engine.put(bytes("change"), bytes("old"));
        engine.put(bytes("remove"), bytes("r"));
        try (EngineSnapshot snapshot = engine.snapshot()) {
            engine.put(bytes("change"), bytes("new"));
            engine.delete(bytes("remove"));
            engine.put(bytes("added"), bytes("a"));
            engine.put(bytes("zz"), bytes("z"));
            engine.delete(bytes("zz"));
            List<KeyValue> seen = all(snapshot.iterator());
            assertEquals(List.of(new KeyValue(bytes("change"), bytes("old")), new KeyValue(bytes("keep"), bytes("1")),
                    new KeyValue(bytes("remove"), bytes("r"))), seen);
        }
        assertArrayEquals(bytes("new"), engine.get(bytes("change")));
    }

    @Test
    void aSnapshotReadWhileAWriterRunsSeesExactlyTheStateWhenItWasTaken() throws Exception {
        Random random = new Random(42);
        TreeMap<String, String> model = new TreeMap<>();
        for (int i = 0; i < 5000; i++) {
            String key = "k" + random.nextInt(8000);
            model.put(key, "v" + i);
            engine.put(bytes(key), bytes("v" + i));
        }
        List<KeyValue> expected = new ArrayList<>();
        model.forEach((k, v) -> expected.add(new KeyValue(bytes(k), bytes(v))));
        AtomicBoolean stop = new AtomicBoolean();
        try (EngineSnapshot snapshot = engine.snapshot()) {
            Thread writer = Thread.ofPlatform().start(() -> {
                Random writes = new Random(7);
                for (int i = 0; !stop.get() && i < 200_000; i++) {
                    String key = "k" + writes.nextInt(8000);
                    if (writes.nextBoolean()) {
                        engine.put(bytes(key), bytes("w" + i));
                    } else {
                        engine.delete(bytes(key));
                    }
                }
            });
            List<KeyValue> seen = all(snapshot.iterator());
            stop.set(true);
            writer.join();
            assertEquals(expected.size(), seen.size());
            assertEquals(expected, seen);
        }
    }

    @Test
    void restoreReplacesEverythingAndRejectsUnorderedInputWithoutChange() {
        engine.put(bytes("old"), bytes("1"));
        engine.restore(List.of(new KeyValue(bytes("a"), bytes("1")), new KeyValue(bytes("b"), bytes("2"))).iterator());
        assertNull(engine.get(bytes("old")));
        assertArrayEquals(bytes("2"), engine.get(bytes("b")));
        assertEquals(2, engine.approximateKeyCount());
        assertThrows(IllegalArgumentException.class, () -> engine.restore(
                List.of(new KeyValue(bytes("b"), bytes("1")), new KeyValue(bytes("a"), bytes("2"))).iterator()));
        assertArrayEquals(bytes("2"), engine.get(bytes("b")), "a failed restore changes nothing");
    }

    @Test
    void snapshotStreamsRoundTripThroughTheCodec() throws Exception {
        for (int i = 0; i < 500; i++) {
            engine.put(bytes("key" + i), bytes("value" + i));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (EngineSnapshot snapshot = engine.snapshot()) {
            assertEquals(500, EngineSnapshotCodec.write(snapshot, out));
        }
        KvEngine copy = newEngine();
        copy.restore(EngineSnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()), 1024, 1024));
        assertEquals(engine.scan(ScanRequest.range(new byte[0], null, 1000)).entries(),
                copy.scan(ScanRequest.range(new byte[0], null, 1000)).entries());
        byte[] truncated = Arrays.copyOf(out.toByteArray(), out.size() - 10);
        assertThrows(UncheckedIOException.class, () -> copy.restore(EngineSnapshotCodec.read(new ByteArrayInputStream(truncated), 1024, 1024)));
        assertThrows(UncheckedIOException.class, () -> copy.restore(EngineSnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()), 2, 1024)));
        assertEquals(500, copy.approximateKeyCount(), "failed restores change nothing");
        copy.close();
    }

    private static List<String> keys(ScanPage page) {
        List<String> keys = new ArrayList<>();
        for (KeyValue entry : page.entries()) {
            keys.add(new String(entry.key(), StandardCharsets.UTF_8));
        }
        return keys;
    }
}
