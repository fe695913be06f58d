package io.loomkv.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ZstdStreamCodecTest {

    private static final int ONE_MIB = 1 << 20;

    private final ZstdStreamCodec codec = ZstdStreamCodec.withDefaults();

    private byte[] compress(byte[] data) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (OutputStream out = codec.compressingStream(sink)) {
            // Write in uneven chunks, as a snapshot writer would.
            int offset = 0;
            int chunk = 1;
            while (offset < data.length) {
                int n = Math.min(chunk, data.length - offset);
                out.write(data, offset, n);
                offset += n;
                chunk = chunk * 3 + 1;
            }
        }
        return sink.toByteArray();
    }

    private byte[] decompress(byte[] compressed, long limit) throws IOException {
        try (InputStream in = codec.decompressingStream(new ByteArrayInputStream(compressed), limit)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 128, 4096, ONE_MIB})
    void kvRecordsRoundTrip(int size) throws IOException {
        byte[] data = TestPayloads.kvRecords(size, size);
        byte[] compressed = compress(data);
        if (size >= 4096) {
            assertTrue(compressed.length < size / 2, compressed.length + " vs " + size);
        }
        assertArrayEquals(data, decompress(compressed, size));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 128, 4096, ONE_MIB})
    void randomDataRoundTrips(int size) throws IOException {
        byte[] data = TestPayloads.random(size, size);
        assertArrayEquals(data, decompress(compress(data), size));
    }

    @Test
    void highlyCompressibleRoundTrips() throws IOException {
        byte[] data = TestPayloads.constant(4 * ONE_MIB, (byte) 'x');
        byte[] compressed = compress(data);
        assertTrue(compressed.length < 4096, "compressed to " + compressed.length);
        assertArrayEquals(data, decompress(compressed, data.length));
    }

    @Test
    void singleByteReadsRoundTrip() throws IOException {
        byte[] data = TestPayloads.kvRecords(10_000, 9);
        byte[] compressed = compress(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = codec.decompressingStream(new ByteArrayInputStream(compressed), 10_000)) {
            int b;
            while ((b = in.read()) >= 0) {
                out.write(b);
            }
            assertEquals(-1, in.read(), "EOF is sticky");
        }
        assertArrayEquals(data, out.toByteArray());
    }

    @Test
    void limitExceededIsReportedAndNothingBeyondItIsReturned() throws IOException {
        byte[] data = TestPayloads.kvRecords(100_000, 4);
        byte[] compressed = compress(data);
        assertArrayEquals(data, decompress(compressed, 100_000));
        InputStream in = codec.decompressingStream(new ByteArrayInputStream(compressed), 99_999);
        byte[] buffer = new byte[8192];
        long total = 0;
        DecompressedSizeLimitException e = null;
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                total += n;
            }
        } catch (DecompressedSizeLimitException thrown) {
            e = thrown;
        }
        assertTrue(e != null, "limit not enforced");
        assertEquals(99_999, e.limitBytes());
        assertEquals(99_999, total, "bytes handed out before the limit tripped");
    }

    @Test
    void limitZeroAcceptsEmptySnapshotOnly() throws IOException {
        assertArrayEquals(new byte[0], decompress(compress(new byte[0]), 0));
        byte[] one = compress(new byte[] {5});
        assertThrows(DecompressedSizeLimitException.class, () -> decompress(one, 0));
    }

    @Test
    void truncatedStreamIsDetectedAtEveryCutPoint() throws IOException {
        byte[] data = TestPayloads.kvRecords(8192, 21);
        byte[] compressed = compress(data);
        for (int cut = 0; cut < compressed.length; cut++) {
            byte[] truncated = Arrays.copyOf(compressed, cut);
            int at = cut;
            assertThrows(
                    CorruptDataException.class,
                    () -> decompress(truncated, ONE_MIB),
                    () -> "cut at " + at + " of " + compressed.length);
        }
    }

    @Test
    void truncatedLargeStreamIsDetectedAtSampledCutPoints() throws IOException {
        byte[] data = TestPayloads.kvRecords(ONE_MIB, 22);
        byte[] compressed = compress(data);
        Random random = new Random(5);
        for (int i = 0; i < 40; i++) {
            int cut = random.nextInt(compressed.length);
            byte[] truncated = Arrays.copyOf(compressed, cut);
            assertThrows(
                    CorruptDataException.class,
                    () -> decompress(truncated, 2 * ONE_MIB),
                    () -> "cut at " + cut + " of " + compressed.length);
        }
    }

    @Test
    void unfinishedFrameIsTruncatedNotShort() throws IOException {
        byte[] data = TestPayloads.kvRecords(300_000, 8);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ZstdSnapshotOutputStream out = codec.compressingStream(sink);
        out.write(data);
        out.flush(); // bytes reach the sink, but the frame is never ended (a crashed writer)
        byte[] partial = sink.toByteArray();
        assertTrue(partial.length > 0);
        assertThrows(CorruptDataException.class, () -> decompress(partial, ONE_MIB));
    }

    @Test
    void bitFlipsAreDetected() throws IOException {
        byte[] data = TestPayloads.kvRecords(16_384, 31);
        byte[] compressed = compress(data);
        Random random = new Random(99);
        int detected = 0;
        int trials = 0;
        for (int position = 0; position < compressed.length; position++) {
            byte[] damaged = compressed.clone();
            damaged[position] ^= (byte) (1 << random.nextInt(8));
            trials++;
            try {
                assertArrayEquals(data, decompress(damaged, ONE_MIB), "flip at " + position);
            } catch (CorruptDataException expected) {
                detected++;
            }
        }
        assertTrue(detected > trials * 9 / 10, detected + " of " + trials + " flips detected");
    }

    @Test
    void emptyAndGarbageInputAreCorrupt() {
        CorruptDataException empty =
                assertThrows(CorruptDataException.class, () -> decompress(new byte[0], ONE_MIB));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
        Random random = new Random(3);
        for (int i = 0; i < 2000; i++) {
            byte[] garbage = new byte[1 + random.nextInt(200)];
            random.nextBytes(garbage);
            if (i % 2 == 0 && garbage.length >= 4) {
                // A valid Zstd magic number so the frame header parser runs on garbage.
                garbage[0] = (byte) 0x28;
                garbage[1] = (byte) 0xb5;
                garbage[2] = (byte) 0x2f;
                garbage[3] = (byte) 0xfd;
            }
            assertThrows(CorruptDataException.class, () -> decompress(garbage, ONE_MIB));
        }
    }

    @Test
    void trailingGarbageAfterTheFrameIsCorrupt() throws IOException {
        byte[] compressed = compress(TestPayloads.kvRecords(4096, 1));
        byte[] withTail = Arrays.copyOf(compressed, compressed.length + 16);
        Arrays.fill(withTail, compressed.length, withTail.length, (byte) 0x55);
        assertThrows(CorruptDataException.class, () -> decompress(withTail, ONE_MIB));
    }

    @Test
    void frameNeedingAHugeWindowIsRejected() throws IOException {
        // A frame declaring a 128 MiB window (level 19 with windowLog 27, streamed so the window is
        // not shrunk to the input size): the decoder must refuse rather than allocate it.
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (ZstdOutputStreamNoFinalizer out = new ZstdOutputStreamNoFinalizer(sink, 3)) {
            out.setWindowLog(27);
            out.setLong(27);
            byte[] chunk = TestPayloads.kvRecords(64 * 1024, 2);
            for (int i = 0; i < 8; i++) {
                out.write(chunk);
                out.flush();
            }
        }
        CorruptDataException e =
                assertThrows(CorruptDataException.class, () -> decompress(sink.toByteArray(), 8 * ONE_MIB));
        assertFalse(e instanceof DecompressedSizeLimitException);
        assertTrue(e.getMessage().contains("memory"), e.getMessage());
    }

    @Test
    void sourceIoErrorsPassThroughUnchanged() throws IOException {
        byte[] compressed = compress(TestPayloads.kvRecords(100_000, 6));
        InputStream failing =
                new InputStream() {
                    private int position;

                    @Override
                    public int read() throws IOException {
                        if (position >= 100) {
                            throw new IOException("disk on fire");
                        }
                        return compressed[position++] & 0xff;
                    }
                };
        InputStream in = codec.decompressingStream(failing, ONE_MIB);
        IOException e = assertThrows(IOException.class, in::readAllBytes);
        assertEquals("disk on fire", e.getMessage());
    }

    @Test
    void finishLeavesTheSinkOpenAndEndsTheFrame() throws IOException {
        boolean[] closed = {false};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream sink =
                new FilterOutputStream(bytes) {
                    @Override
                    public void close() throws IOException {
                        closed[0] = true;
                        super.close();
                    }
                };
        byte[] data = TestPayloads.kvRecords(50_000, 12);
        ZstdSnapshotOutputStream out = codec.compressingStream(sink);
        out.write(data);
        out.finish();
        out.finish();
        assertFalse(closed[0], "finish must not close the sink");
        assertThrows(IOException.class, () -> out.write(1));
        assertArrayEquals(data, decompress(bytes.toByteArray(), data.length));
        out.close();
        assertTrue(closed[0], "close must close the sink");
    }

    @Test
    void invalidArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ZstdStreamCodec(0));
        assertThrows(IllegalArgumentException.class, () -> new ZstdStreamCodec(20));
        assertEquals(19, new ZstdStreamCodec(19).level());
        assertThrows(
                IllegalArgumentException.class,
                () -> codec.decompressingStream(new ByteArrayInputStream(new byte[0]), -1));
    }
}
