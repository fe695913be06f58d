package io.loomkv.net.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.frame.FrameCompression;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameHeader;
import io.loomkv.net.frame.FrameReader;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.EchoRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FrameWriterTest {
    /** Records every write call, as the socket would see them. */
    private static final class RecordingStream extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Integer> writeSizes = new ArrayList<>();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            writeSizes.add(1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            writeSizes.add(len);
        }

        synchronized byte[] written() {
            return bytes.toByteArray();
        }

        synchronized int writes() {
            return writeSizes.size();
        }
    }

    private static EchoRequest body(int sizeBytes, byte fill) {
        byte[] payload = new byte[sizeBytes];
        java.util.Arrays.fill(payload, fill);
        return EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
    }

    private static OutboundFrame request(long id, EchoRequest body) {
        return new OutboundFrame(FrameType.REQUEST, 0, id, 0x10001, body, false);
    }

    private static FrameWriter writer(RecordingStream out, int capacity, FrameCompression compression,
            AtomicInteger responsesWritten) {
        return new FrameWriter(out, capacity, compression.encoder(), 8 * 1024, responsesWritten::addAndGet,
                e -> { }, "test-writer");
    }

    private static void awaitParked(FrameWriter writer) throws InterruptedException {
        TestRpc.waitFor("the writer to park", () -> writer.isParkedForTest());
    }

    private static List<FrameHeader> readAll(byte[] bytes, FrameCompression compression, List<EchoRequest> bodies)
            throws IOException {
        FrameReader reader = new FrameReader(new ByteArrayInputStream(bytes), FrameReader.noTimeouts(),
                16 * 1024 * 1024, 0, 10_000, compression.decoder());
        List<FrameHeader> headers = new ArrayList<>();
        FrameHeader header;
        while ((header = reader.next()) != null) {
            headers.add(header);
            bodies.add(EchoRequest.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength()));
        }
        return headers;
    }

    @Test
    void framesQueuedDuringABatchGoOutInOneWrite() throws Exception {
        RecordingStream out = new RecordingStream();
        AtomicInteger responses = new AtomicInteger();
        FrameWriter writer = writer(out, 256, FrameCompression.NONE, responses);
        writer.batchOffersFrom(Thread.currentThread());
        writer.start();
        awaitParked(writer);
        for (int i = 0; i < 100; i++) {
            assertTrue(writer.offer(new OutboundFrame(FrameType.RESPONSE, 0, i, 1, body(128, (byte) i), true)));
        }
        assertEquals(0, out.writes(), "nothing is written before the batch ends");
        writer.wakeIfQueued();
        TestRpc.waitFor("the responses to be written", () -> responses.get() == 100);
        assertEquals(1, out.writes(), "100 small frames coalesced into one write");
        List<EchoRequest> bodies = new ArrayList<>();
        List<FrameHeader> headers = readAll(out.written(), FrameCompression.NONE, bodies);
        assertEquals(100, headers.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(i, headers.get(i).requestId(), "order kept");
            assertEquals(body(128, (byte) i), bodies.get(i));
        }
        writer.closeAfterFlush();
        assertTrue(writer.awaitExit(TestRpc.WAIT.toMillis()));
    }

    @Test
    void theQueueIsBoundedAndRefusesWhenFullOrClosing() throws Exception {
        RecordingStream out = new RecordingStream();
        FrameWriter writer = writer(out, 16, FrameCompression.NONE, new AtomicInteger());
        writer.batchOffersFrom(Thread.currentThread());
        writer.start();
        awaitParked(writer);
        int accepted = 0;
        while (writer.offer(request(accepted, body(10, (byte) 1)))) {
            accepted++;
            if (accepted > 1000) {
                break;
            }
        }
        assertEquals(16, accepted, "capacity 16, then back-pressure");
        writer.wakeIfQueued();
        writer.closeAfterFlush();
        assertTrue(writer.awaitExit(TestRpc.WAIT.toMillis()));
        assertFalse(writer.offer(request(99, body(10, (byte) 1))), "a closed writer takes nothing");
        assertEquals(16, readAll(out.written(), FrameCompression.NONE, new ArrayList<>()).size(),
                "everything queued before the close was written");
    }

    @Test
    void largeAndCompressibleBodiesAreWrittenInOrderAndCompressedWhenItPays() throws Exception {
        RecordingStream out = new RecordingStream();
        FrameCompression lz4 = FrameCompression.standard();
        FrameWriter writer = writer(out, 64, lz4, new AtomicInteger());
        writer.start();
        byte[] random = new byte[20_000];
        new java.util.Random(3).nextBytes(random);
        EchoRequest incompressible = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(random)).build();
        byte[] largeRandom = new byte[150_000];
        new java.util.Random(4).nextBytes(largeRandom);
        EchoRequest largeIncompressible = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(largeRandom)).build();
        List<EchoRequest> sent = List.of(body(100, (byte) 1), body(200_000, (byte) 2), body(10_000, (byte) 3),
                incompressible, body(5, (byte) 4), largeIncompressible, body(9_000, (byte) 5));
        for (int i = 0; i < sent.size(); i++) {
            assertTrue(writer.offer(request(i, sent.get(i))));
        }
        writer.closeAfterFlush();
        assertTrue(writer.awaitExit(TestRpc.WAIT.toMillis()));
        List<EchoRequest> bodies = new ArrayList<>();
        List<FrameHeader> headers = readAll(out.written(), lz4, bodies);
        assertEquals(sent, bodies);
        assertFalse(headers.get(0).hasFlag(FrameFlags.LZ4), "below the threshold: raw");
        assertTrue(headers.get(1).hasFlag(FrameFlags.LZ4), "200 KB of one byte: compressed");
        assertTrue(headers.get(1).bodyLengthBytes() < 10_000, "compressed to " + headers.get(1).bodyLengthBytes());
        assertTrue(headers.get(2).hasFlag(FrameFlags.LZ4));
        assertFalse(headers.get(3).hasFlag(FrameFlags.LZ4), "random bytes do not shrink: sent raw");
        assertFalse(headers.get(4).hasFlag(FrameFlags.LZ4));
        assertFalse(headers.get(5).hasFlag(FrameFlags.LZ4), "larger than the write buffer and random: raw");
        assertEquals(largeIncompressible.getSerializedSize(), headers.get(5).bodyLengthBytes());
        assertTrue(headers.get(6).hasFlag(FrameFlags.LZ4));
    }
}
