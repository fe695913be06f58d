package io.loomkv.persist.bitcask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.engine.KeyValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Small options, a reference model and the comparisons the BitCask tests share. */
final class BitcaskTestSupport {
    private BitcaskTestSupport() {
    }

    /** 64 KiB files, keys up to 64 bytes, values up to 4 KiB: many files and merges from a few thousand writes. */
    static BitcaskOptions smallOptions(Path directory) {
        return new BitcaskOptions(directory, 64 * 1024, 64, 4096, 1000, 64 * 1024, 256, 8, WriteChannelOpener.DEFAULT);
    }

    static NavigableMap<byte[], byte[]> newModel() {
        return new TreeMap<>(Arrays::compareUnsigned);
    }

    static byte[] key(int i) {
        return String.format("key-%06d", i).getBytes(StandardCharsets.UTF_8);
    }

    /** Random bytes with no zero byte, so that no 512-byte sector of a value is ever all zeros. */
    static byte[] value(Random random, int bytes) {
        byte[] value = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            value[i] = (byte) (1 + random.nextInt(255));
        }
        return value;
    }

    static byte[] metadata(long n) {
        return ("applied=" + n).getBytes(StandardCharsets.UTF_8);
    }

    /** Every key of the model reads back through get, and a full view of the store equals the model, in order. */
    static void assertContents(NavigableMap<byte[], byte[]> model, BitcaskStore store, String context) {
        for (Map.Entry<byte[], byte[]> entry : model.entrySet()) {
            assertArrayEquals(entry.getValue(), store.get(entry.getKey()), context + ": key " + new String(entry.getKey(), StandardCharsets.UTF_8));
        }
        try (BitcaskView view = store.openView()) {
            assertViewEquals(model, view, context);
        }
        assertEquals(model.size(), store.sizes().keyCount(), context + ": key count");
    }

    static void assertViewEquals(NavigableMap<byte[], byte[]> model, BitcaskView view, String context) {
        Iterator<Map.Entry<byte[], byte[]>> expected = model.entrySet().iterator();
        Iterator<KeyValue> actual = view.iterator();
        byte[] previous = null;
        int index = 0;
        while (expected.hasNext()) {
            Map.Entry<byte[], byte[]> want = expected.next();
            assertTrue(actual.hasNext(), context + ": view ends after " + index + " keys, the model has " + model.size());
            KeyValue got = actual.next();
            if (previous != null) {
                assertTrue(Arrays.compareUnsigned(previous, got.key()) < 0, context + ": view out of order at " + index);
            }
            assertArrayEquals(want.getKey(), got.key(), context + ": key " + index);
            assertArrayEquals(want.getValue(), got.value(), context + ": value of key " + index);
            assertArrayEquals(want.getValue(), view.get(want.getKey()), context + ": view get of key " + index);
            previous = got.key();
            index++;
        }
        assertTrue(!actual.hasNext(), context + ": view has more keys than the model's " + model.size());
    }

    static void assertAbsent(NavigableMap<byte[], byte[]> model, BitcaskStore store, int keySpace, String context) {
        for (int i = 0; i < keySpace; i++) {
            if (!model.containsKey(key(i))) {
                assertNull(store.get(key(i)), context + ": deleted key " + i + " came back");
            }
        }
    }

    static Path onlyFile(Path directory, String suffix, boolean highest) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted(highest ? java.util.Comparator.<Path>reverseOrder() : java.util.Comparator.<Path>naturalOrder())
                    .findFirst().orElseThrow(() -> new AssertionError("no " + suffix + " file in " + directory));
        }
    }

    static void copyDirectory(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.flip();
            byte flipped = (byte) (one.get(0) ^ 0x5A);
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {flipped}), offset);
        }
    }
}
