package io.loomkv.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Lz4BlockCodecTest {

    private static final int ONE_MIB = 1 << 20;
    private static final int LIMIT = 4 * ONE_MIB;

    private final Lz4BlockCodec always = new Lz4BlockCodec(0);

    @ParameterizedTest
    @ValueSource(ints = {128, 4096, ONE_MIB})
    void kvRecordsRoundTrip(int size) {
        byte[] data = TestPayloads.kvRecords(size, size);
        byte[] compressed = always.compressOrNull(data);
        assertNotNull(compressed, "KV records of " + size + " bytes should compress");
        assertTrue(compressed.length < size, compressed.length + " >= " + size);
        assertEquals(size, Lz4BlockCodec.decompressedLength(compressed, 0, compressed.length, LIMIT));
        assertArrayEquals(data, always.decompress(compressed, LIMIT));
    }

    @Test
    void highlyCompressibleShrinksALotAndRoundTrips() {
        byte[] data = TestPayloads.constant(ONE_MIB, (byte) 7);
        byte[] compressed = always.compressOrNull(data);
        assertNotNull(compressed);
        assertTrue(compressed.length < ONE_MIB / 100, "only shrank to " + compressed.length);
        assertArrayEquals(data, always.decompress(compressed, ONE_MIB));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 8})
    void tinyInputsStayRawEvenWithoutThreshold(int size) {
        byte[] data = TestPayloads.constant(size, (byte) 0);
        assertNull(always.compressOrNull(data));
        byte[] dest = new byte[always.maxCompressedLength(size)];
        assertEquals(Lz4BlockCodec.RAW, always.compress(data, 0, size, dest, 0));
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 4096, ONE_MIB})
    void incompressibleDataStaysRaw(int size) {
        byte[] data = TestPayloads.random(size, 42 + size);
        assertNull(always.compressOrNull(data));
    }

    @Test
    void belowThresholdStaysRawAboveItCompresses() {
        Lz4BlockCodec codec = new Lz4BlockCodec(256);
        assertEquals(256, codec.minCompressBytes());
        assertNull(codec.compressOrNull(TestPayloads.constant(255, (byte) 1)));
        assertNotNull(codec.compressOrNull(TestPayloads.constant(256, (byte) 1)));
        assertEquals(
                Lz4BlockCodec.DEFAULT_MIN_COMPRESS_BYTES, Lz4BlockCodec.withDefaults().minCompressBytes());
    }

    @Test
    void compressAndDecompressAtOffsetsWithoutAllocation() {
        byte[] data = TestPayloads.kvRecords(4096, 3);
        byte[] src = new byte[5000];
        System.arraycopy(data, 0, src, 100, data.length);
        byte[] dest = new byte[17 + always.maxCompressedLength(data.length)];
        int written = always.compress(src, 100, data.length, dest, 17);
        assertTrue(written > 0 && written < data.length, "written " + written);
        byte[] out = new byte[data.length + 33];
        int produced = always.decompress(dest, 17, written, out, 33, LIMIT);
        assertEquals(data.length, produced);
        assertArrayEquals(data, Arrays.copyOfRange(out, 33, 33 + produced));
    }

    @Test
    void compressRejectsTooSmallDestinationUpFront() {
        byte[] data = TestPayloads.kvRecords(4096, 3);
        byte[] dest = new byte[always.maxCompressedLength(data.length) - 1];
        assertThrows(IndexOutOfBoundsException.class, () -> always.compress(data, 0, 4096, dest, 0));
    }

    @Test
    void decompressIntoTooSmallDestinationIsRejectedBeforeDecoding() {
        byte[] compressed = always.compressOrNull(TestPayloads.kvRecords(4096, 3));
        byte[] out = new byte[4095];
        assertThrows(
                IndexOutOfBoundsException.class,
                () -> always.decompress(compressed, 0, compressed.length, out, 0, LIMIT));
    }

    @Test
    void declaredSizeAboveLimitIsRejected() {
        byte[] data = TestPayloads.kvRecords(4096, 5);
        byte[] compressed = always.compressOrNull(data);
        DecompressedSizeLimitException e =
                assertThrows(DecompressedSizeLimitException.class, () -> always.decompress(compressed, 4095));
        assertEquals(4095, e.limitBytes());
        assertTrue(e.getMessage().contains("4096"), e.getMessage());
        // Exactly at the limit is fine.
        assertArrayEquals(data, always.decompress(compressed, 4096));
    }

    @Test
    void hugeDeclaredSizeFromTinyInputIsRejectedWithoutAllocating() {
        // 8-byte header declaring 2 GiB - 1, then 4 bytes of "payload": under a generous limit the
        // expansion bound must reject it before any buffer is allocated.
        byte[] hostile = {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0x10, 0, 0, 0};
        CorruptDataException e =
                assertThrows(
                        CorruptDataException.class, () -> always.decompress(hostile, Integer.MAX_VALUE));
        assertTrue(e.getMessage().contains("impossible"), e.getMessage());
    }

    @Test
    void negativeDeclaredLengthIsCorrupt() {
        byte[] compressed = always.compressOrNull(TestPayloads.kvRecords(4096, 5));
        compressed[0] = (byte) 0x80;
        CorruptDataException e =
                assertThrows(CorruptDataException.class, () -> always.decompress(compressed, LIMIT));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
    }

    @Test
    void truncatedAtEveryCutPointIsCorrupt() {
        byte[] data = TestPayloads.kvRecords(4096, 11);
        byte[] compressed = always.compressOrNull(data);
        for (int cut = 0; cut < compressed.length; cut++) {
            byte[] truncated = Arrays.copyOf(compressed, cut);
            int at = cut;
            assertThrows(
                    CorruptDataException.class,
                    () -> always.decompress(truncated, LIMIT),
                    () -> "cut at " + at + " of " + compressed.length);
        }
    }

    @Test
    void bitFlipsAtEveryPositionAreDetected() {
        byte[] data = TestPayloads.kvRecords(4096, 13);
        byte[] compressed = always.compressOrNull(data);
        Random random = new Random(2024);
        int detected = 0;
        int trials = 0;
        for (int round = 0; round < 3; round++) {
            for (int position = 0; position < compressed.length; position++) {
                byte[] damaged = compressed.clone();
                damaged[position] ^= (byte) (1 << random.nextInt(8));
                trials++;
                try {
                    byte[] out = always.decompress(damaged, LIMIT);
                    // A flip can be harmless (e.g. a match offset pointing at equal bytes); then the
                    // output must still be exactly the original, which the checksum guarantees.
                    assertArrayEquals(data, out, "flip at " + position + " returned wrong data");
                } catch (CorruptDataException expected) {
                    detected++;
                }
            }
        }
        assertTrue(detected > trials * 9 / 10, detected + " of " + trials + " flips detected");
    }

    @Test
    void garbageInputIsAlwaysRejectedCleanly() {
        Random random = new Random(77);
        for (int i = 0; i < 20_000; i++) {
            byte[] garbage = new byte[random.nextInt(80)];
            random.nextBytes(garbage);
            if (i % 2 == 0 && garbage.length >= 4) {
                // Make half of them declare a small, plausible length so the LZ4 decoder itself runs.
                garbage[0] = 0;
                garbage[1] = 0;
                garbage[2] = 0;
                garbage[3] = (byte) random.nextInt(128);
            }
            assertThrows(CorruptDataException.class, () -> always.decompress(garbage, ONE_MIB));
        }
    }

    @Test
    void invalidArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Lz4BlockCodec(-1));
        assertThrows(IllegalArgumentException.class, () -> always.maxCompressedLength(-1));
        byte[] compressed = always.compressOrNull(TestPayloads.kvRecords(4096, 5));
        assertThrows(IllegalArgumentException.class, () -> always.decompress(compressed, -1));
        assertThrows(
                IndexOutOfBoundsException.class, () -> always.compressOrNull(new byte[10], 5, 6));
    }
}
