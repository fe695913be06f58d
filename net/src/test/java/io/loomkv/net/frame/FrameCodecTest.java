package io.loomkv.net.frame;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.compress.Lz4BlockCodec;
import io.loomkv.net.proto.EchoRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    private static final int MAX_FRAME = 1024 * 1024;

    private static EchoRequest echo(int sizeBytes, long seed) {
        byte[] payload = new byte[sizeBytes];
        new Random(seed).nextBytes(payload);
        return EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
    }

    private static FrameReader readerOf(byte[] bytes, FrameBodyDecoder decoder) {
        return readerOf(new ByteArrayInputStream(bytes), decoder);
    }

    private static FrameReader readerOf(InputStream in, FrameBodyDecoder decoder) {
        return new FrameReader(in, FrameReader.noTimeouts(), MAX_FRAME, 0, 10_000, decoder);
    }

    private static EchoRequest body(FrameReader reader) throws IOException {
        return EchoRequest.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
    }

    @Test
    void headerRoundTripKeepsEveryField() throws IOException {
        byte[] frame = new byte[FrameCodec.HEADER_SIZE_BYTES];
        FrameCodec.writeHeader(frame, 0, FrameType.RESPONSE, FrameFlags.ERROR, Long.MIN_VALUE + 7, 0x0003_0009, 321);
        FrameHeader header = FrameCodec.readHeader(frame, 0, MAX_FRAME);
        assertEquals(new FrameHeader(FrameType.RESPONSE, FrameFlags.ERROR, Long.MIN_VALUE + 7, 0x0003_0009, 321),
                header);
        assertEquals(FrameCodec.MAGIC, ByteBuffer.wrap(frame).getInt(0), "magic is big-endian at offset 0");
        assertEquals(321, ByteBuffer.wrap(frame).getInt(20), "body length is big-endian at offset 20");
    }

    @Test
    void framesRoundTripThroughTheReaderIncludingPipelinedAndLargeOnes() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] sizes = {0, 1, 128, 4096, 70_000, 300_000, 5};
        for (int i = 0; i < sizes.length; i++) {
            out.write(FrameCodec.encodeToArray(FrameType.REQUEST, 0, 100 + i, 0x10001, echo(sizes[i], i)));
        }
        FrameReader reader = readerOf(out.toByteArray(), FrameBodyDecoder.REJECT);
        for (int i = 0; i < sizes.length; i++) {
            FrameHeader header = reader.next();
            assertEquals(FrameType.REQUEST, header.type());
            assertEquals(100 + i, header.requestId());
            assertEquals(0x10001, header.methodId());
            assertEquals(echo(sizes[i], i), body(reader), "body of frame " + i);
        }
        assertNull(reader.next(), "clean end of stream between frames");
    }

    @Test
    void readerCopesWithOneByteReads() throws IOException {
        byte[] frames = concat(FrameCodec.encodeToArray(FrameType.ONE_WAY, 0, 0, 5, echo(100, 1)),
                FrameCodec.encodeToArray(FrameType.ONE_WAY, 0, 0, 6, echo(200, 2)));
        InputStream trickle = new ByteArrayInputStream(frames) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1));
            }
        };
        FrameReader reader = readerOf(trickle, FrameBodyDecoder.REJECT);
        assertEquals(5, reader.next().methodId());
        assertEquals(echo(100, 1), body(reader));
        assertEquals(6, reader.next().methodId());
        assertEquals(echo(200, 2), body(reader));
        assertNull(reader.next());
    }

    @Test
    void largeFramesOfEverySizeAroundTheGrowthStepsRoundTrip() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] sizes = {65_512, 65_513, 131_072, 131_073, 262_145, 1_000_000};
        for (int i = 0; i < sizes.length; i++) {
            out.write(FrameCodec.encodeToArray(FrameType.ONE_WAY, 0, 0, i, echo(sizes[i], i)));
        }
        FrameReader reader = readerOf(out.toByteArray(), FrameBodyDecoder.REJECT);
        for (int i = 0; i < sizes.length; i++) {
            assertEquals(i, reader.next().methodId());
            assertEquals(echo(sizes[i], i), body(reader), "body of " + sizes[i] + " bytes");
        }
        assertNull(reader.next());
    }

    @Test
    void badMagicIsRejected() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(10, 1));
        frame[0] = 'X';
        assertMalformed(frame, "bad magic");
    }

    @Test
    void unknownVersionIsRejected() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(10, 1));
        frame[4] = 2;
        assertMalformed(frame, "unknown protocol version 2");
    }

    @Test
    void unknownFrameTypeIsRejected() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(10, 1));
        frame[5] = 9;
        assertMalformed(frame, "unknown frame type 9");
        frame[5] = 0;
        assertMalformed(frame, "unknown frame type 0");
    }

    @Test
    void unknownFlagBitsAreRejected() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(10, 1));
        frame[6] = (byte) 0x80;
        assertMalformed(frame, "unknown flag bits");
    }

    @Test
    void negativeLengthIsRejected() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(10, 1));
        ByteBuffer.wrap(frame).putInt(20, -5);
        assertMalformed(frame, "negative body length -5");
    }

    @Test
    void oversizeLengthIsRejectedBeforeReadingTheBody() {
        byte[] header = new byte[FrameCodec.HEADER_SIZE_BYTES];
        FrameCodec.writeHeader(header, 0, FrameType.REQUEST, 0, 1, 1, MAX_FRAME);
        // Only the header is there: the limit is checked before the reader waits for the body.
        assertMalformed(header, "exceeds the maximum of " + MAX_FRAME);
        ByteBuffer.wrap(header).putInt(20, Integer.MAX_VALUE);
        assertMalformed(header, "exceeds the maximum");
    }

    @Test
    void truncatedHeaderAndTruncatedBodyAreRejected() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(100, 1));
        assertMalformed(Arrays.copyOf(frame, 10), "truncated frame: stream ended after 10 of the 24 header bytes");
        assertMalformed(Arrays.copyOf(frame, 50), "truncated frame: stream ended after 50 of " + frame.length);
        byte[] large = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(200_000, 1));
        assertMalformed(Arrays.copyOf(large, 150_000), "truncated frame");
    }

    @Test
    void compressedBodyIsRefusedWhenTheConnectionTakesNone() {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, echo(10, 1));
        frame[7] = FrameFlags.LZ4;
        FrameFormatException e = assertThrows(FrameFormatException.class,
                () -> readerOf(frame, FrameBodyDecoder.REJECT).next());
        assertTrue(e.getMessage().contains("LZ4-compressed body not accepted"), e.getMessage());
    }

    @Test
    void lz4BodiesRoundTripAndCorruptOnesAreRejected() throws IOException {
        FrameCompression lz4 = FrameCompression.standard();
        byte[] raw = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[50_000])).build().toByteArray();
        byte[] compressed = lz4.encoder().compressIfSmaller(raw);
        assertTrue(compressed != null && compressed.length < raw.length / 10, "zeros compress well");
        byte[] frame = lz4Frame(compressed);
        FrameReader reader = readerOf(frame, lz4.decoder());
        reader.next();
        assertArrayEquals(raw, Arrays.copyOfRange(reader.bodyArray(), reader.bodyOffset(),
                reader.bodyOffset() + reader.bodyLength()));

        byte[] corrupt = frame.clone();
        corrupt[corrupt.length - 3] ^= 0x55;
        FrameFormatException e = assertThrows(FrameFormatException.class, () -> readerOf(corrupt, lz4.decoder()).next());
        assertTrue(e.getMessage().startsWith("bad LZ4 body"), e.getMessage());
    }

    @Test
    void borrowedBodyArraysNeverMixTwoFramesBytes() throws IOException {
        FrameCompression lz4 = FrameCompression.standard();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        // Large raw bodies shrinking then growing within and across the pool's size classes (a
        // borrowed array longer than the body must not read into the frame after it), compressed
        // ones likewise, small frames between them, and one body above the largest class.
        int[] rawSizes = {300_000, 200_000, 250_000, 70_000, 5, 1_100_000, 131_000};
        int[] compressedSizes = {120_000, 40_000, 3, 90_000, 200_000, 1_500_000, 130_000};
        EchoRequest[] raw = new EchoRequest[rawSizes.length];
        EchoRequest[] compressed = new EchoRequest[compressedSizes.length];
        for (int i = 0; i < rawSizes.length; i++) {
            raw[i] = echo(rawSizes[i], i);
            out.write(FrameCodec.encodeToArray(FrameType.REQUEST, 0, i, 0x10001, raw[i]));
            byte[] repetitive = new byte[compressedSizes[i]];
            Arrays.fill(repetitive, (byte) ('a' + i));
            compressed[i] = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(repetitive)).build();
            byte[] body = lz4.encoder().compressIfSmaller(compressed[i].toByteArray());
            out.write(body == null ? FrameCodec.encodeToArray(FrameType.REQUEST, 0, i, 0x10001, compressed[i]) : lz4Frame(body));
        }
        FrameReader reader = new FrameReader(new ByteArrayInputStream(out.toByteArray()), FrameReader.noTimeouts(),
                4 * 1024 * 1024, 0, 10_000, lz4.decoder());
        for (int i = 0; i < rawSizes.length; i++) {
            reader.next();
            assertEquals(raw[i], body(reader), "raw frame " + i);
            reader.next();
            assertEquals(compressed[i], body(reader), "compressed frame " + i);
        }
        assertNull(reader.next());
    }

    @Test
    void lz4BodyMayNotDecompressBeyondTheFrameLimit() {
        FrameCompression lz4 = FrameCompression.lz4(Lz4BlockCodec.withDefaults());
        byte[] big = new byte[MAX_FRAME + 1000];
        byte[] compressed = lz4.encoder().compressIfSmaller(big);
        FrameFormatException e = assertThrows(FrameFormatException.class,
                () -> readerOf(lz4Frame(compressed), lz4.decoder()).next());
        assertTrue(e.getMessage().contains("above the limit"), e.getMessage());
    }

    @Test
    void encoderRefusesInvalidFlagsAndLengths() {
        byte[] header = new byte[FrameCodec.HEADER_SIZE_BYTES];
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.writeHeader(header, 0, FrameType.REQUEST, 0x100, 1, 1, 0));
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.writeHeader(header, 0, FrameType.REQUEST, 0, 1, 1, -1));
    }

    private static byte[] lz4Frame(byte[] compressedBody) {
        byte[] frame = new byte[FrameCodec.HEADER_SIZE_BYTES + compressedBody.length];
        FrameCodec.writeHeader(frame, 0, FrameType.REQUEST, FrameFlags.LZ4, 1, 1, compressedBody.length);
        System.arraycopy(compressedBody, 0, frame, FrameCodec.HEADER_SIZE_BYTES, compressedBody.length);
        return frame;
    }

    private static void assertMalformed(byte[] bytes, String expectedMessagePart) {
        FrameFormatException e = assertThrows(FrameFormatException.class,
                () -> readerOf(bytes, FrameBodyDecoder.REJECT).next());
        assertTrue(e.getMessage().contains(expectedMessagePart),
                "expected '" + expectedMessagePart + "' in '" + e.getMessage() + "'");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
