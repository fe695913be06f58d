package io.loomkv.net.rpc;

import com.google.protobuf.CodedOutputStream;
import io.loomkv.net.frame.FrameArrayPool;
import io.loomkv.net.frame.FrameBodyEncoder;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.log.LogContext;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.jctools.queues.MpscArrayQueue;

/**
 * A connection's writer: any thread queues frames, one virtual thread drains the queue and
 * encodes everything queued into one buffer, so a burst of responses becomes one socket write.
 *
 * <p>The queue is bounded; {@link #offer} returns false when it is full or the writer is closing,
 * and the caller turns that into an error or back-pressure (a server never queues more responses
 * than its in-flight limit, so its queue does not fill).
 */
final class FrameWriter implements Runnable {
    static final int BUFFER_SIZE_BYTES = 64 * 1024;

    private final MpscArrayQueue<OutboundFrame> queue;
    private final OutputStream out;
    private final byte[] buffer = new byte[BUFFER_SIZE_BYTES];
    private final FrameBodyEncoder bodyEncoder;
    private final int compressThresholdBytes;
    private final IntConsumer onResponsesWritten;
    private final java.util.function.Consumer<IOException> onFailure;
    private final Thread thread;
    private int position;
    private int responsesInBuffer;

    private volatile boolean parked;
    private volatile boolean closeRequested;
    private volatile boolean aborted;
    private volatile IOException failure;
    /** Offers from this thread do not wake the writer; it calls {@link #wakeIfQueued()} after its batch. */
    private volatile Thread batchingThread;

    /**
     * @param bodyEncoder compresses bodies of at least {@code compressThresholdBytes}; null: never compress
     * @param onResponsesWritten told how many {@code answersRequest} frames reached the socket
     * @param onFailure told, on the writer thread, why writing stopped (the owner closes the connection)
     */
    FrameWriter(OutputStream out, int queueCapacity, FrameBodyEncoder bodyEncoder, int compressThresholdBytes,
            IntConsumer onResponsesWritten, java.util.function.Consumer<IOException> onFailure, String threadName) {
        this.queue = new MpscArrayQueue<>(queueCapacity);
        this.out = out;
        this.bodyEncoder = bodyEncoder;
        this.compressThresholdBytes = compressThresholdBytes;
        this.onResponsesWritten = onResponsesWritten;
        this.onFailure = onFailure;
        this.thread = Thread.ofVirtual().name(threadName).unstarted(LogContext.inheritNode(this));
    }

    void start() {
        thread.start();
    }

    /** Queues a frame; false when the queue is full or the writer is closing or closed. */
    boolean offer(OutboundFrame frame) {
        if (closeRequested || aborted || !queue.offer(frame)) {
            return false;
        }
        if (parked && Thread.currentThread() != batchingThread) {
            DeferredUnparks.unpark(thread); // An apply thread wakes us at the end of its pass.
        }
        return true;
    }

    /**
     * Lets {@code reader}, the connection's reader thread, queue frames without waking the writer
     * for each one: while it works through frames that arrived together, everything it queues goes
     * out in one socket write. It must call {@link #wakeIfQueued()} before it blocks.
     */
    void batchOffersFrom(Thread reader) {
        batchingThread = reader;
    }

    /** Wakes the writer if frames are waiting. */
    void wakeIfQueued() {
        if (parked && !queue.isEmpty()) {
            LockSupport.unpark(thread);
        }
    }

    /** Writes what is queued, then stops; the owner closes the socket after {@link #awaitExit}. */
    void closeAfterFlush() {
        closeRequested = true;
        LockSupport.unpark(thread);
    }

    /** Stops without writing what is queued (the socket is being torn down). */
    void abort() {
        aborted = true;
        LockSupport.unpark(thread);
    }

    /** Waits for the writer thread to finish; true when it did within the time. */
    boolean awaitExit(long timeoutMillis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(timeoutMillis));
    }

    /** The write error that stopped the writer, or null. */
    IOException failure() {
        return failure;
    }

    /** For tests: the writer thread is parked waiting for frames. */
    boolean isParkedForTest() {
        return parked && thread.getState() == Thread.State.WAITING;
    }


    @Override
    public void run() {
        try {
            while (!aborted) {
                OutboundFrame frame = queue.relaxedPoll();
                if (frame != null) {
                    append(frame);
                    continue;
                }
                if (position > 0 || responsesInBuffer > 0) {
                    flush();
                    continue;
                }
                if (closeRequested) {
                    if (queue.isEmpty()) {
                        break;
                    }
                    continue;
                }
                parked = true;
                if (queue.isEmpty() && !closeRequested && !aborted) {
                    LockSupport.park(this);
                }
                parked = false;
            }
        } catch (IOException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(new IOException("encoding a frame failed: " + e, e));
        }
    }

    private void fail(IOException e) {
        failure = e;
        aborted = true;
        onFailure.accept(e);
    }

    private void append(OutboundFrame frame) throws IOException {
        int bodySizeBytes = frame.body().getSerializedSize();
        if (bodyEncoder != null && bodySizeBytes >= compressThresholdBytes) {
            appendCompressible(frame, bodySizeBytes);
        } else {
            int frameSizeBytes = FrameCodec.HEADER_SIZE_BYTES + bodySizeBytes;
            if (frameSizeBytes > buffer.length - position) {
                flush();
            }
            if (frameSizeBytes <= buffer.length) {
                position += FrameCodec.encode(buffer, position, frame.type(), frame.flags(), frame.requestId(),
                        frame.methodId(), frame.body());
            } else {
                out.write(FrameCodec.encodeToArray(frame.type(), frame.flags(), frame.requestId(), frame.methodId(),
                        frame.body()));
            }
        }
        if (frame.answersRequest()) {
            responsesInBuffer++;
        }
    }

    /**
     * Serialises the body into a borrowed array and compresses it straight into the write buffer
     * when its worst case fits there, else into a second borrowed array: no array of its own per
     * frame (a raw copy, a compression buffer and a trimmed copy of that were most of a leader's
     * allocation under 4 KB values). The arrays go back to {@link FrameArrayPool#SHARED} at the end.
     */
    private void appendCompressible(OutboundFrame frame, int rawBytes) throws IOException {
        byte[] raw = FrameArrayPool.SHARED.take(rawBytes);
        try {
            appendCompressible(frame, raw, rawBytes);
        } finally {
            FrameArrayPool.SHARED.give(raw);
        }
    }

    private void appendCompressible(OutboundFrame frame, byte[] raw, int rawBytes) throws IOException {
        CodedOutputStream coded = CodedOutputStream.newInstance(raw, 0, rawBytes);
        frame.body().writeTo(coded);
        coded.checkNoSpaceLeft();
        int boundBytes = bodyEncoder.maxCompressedLength(rawBytes);
        if (FrameCodec.HEADER_SIZE_BYTES + boundBytes > buffer.length - position) {
            flush();
        }
        byte[] compressed;
        int compressedOffset;
        if (FrameCodec.HEADER_SIZE_BYTES + boundBytes <= buffer.length) {
            compressed = buffer;
            compressedOffset = position + FrameCodec.HEADER_SIZE_BYTES;
        } else {
            compressed = FrameArrayPool.SHARED.take(boundBytes);
            compressedOffset = 0;
        }
        int compressedBytes = bodyEncoder.compress(raw, 0, rawBytes, compressed, compressedOffset);
        boolean lz4 = compressedBytes != FrameBodyEncoder.RAW;
        byte[] body = lz4 ? compressed : raw;
        int bodyOffset = lz4 ? compressedOffset : 0;
        int bodyBytes = lz4 ? compressedBytes : rawBytes;
        int flags = lz4 ? frame.flags() | FrameFlags.LZ4 : frame.flags() & ~FrameFlags.LZ4;
        if (compressed == buffer) {
            // Raw is never longer than the compression bound, so it fits where the bound did.
            FrameCodec.writeHeader(buffer, position, frame.type(), flags, frame.requestId(), frame.methodId(), bodyBytes);
            if (!lz4) {
                System.arraycopy(raw, 0, buffer, compressedOffset, rawBytes);
            }
            position += FrameCodec.HEADER_SIZE_BYTES + bodyBytes;
        } else {
            try {
                byte[] header = new byte[FrameCodec.HEADER_SIZE_BYTES];
                FrameCodec.writeHeader(header, 0, frame.type(), flags, frame.requestId(), frame.methodId(), bodyBytes);
                out.write(header);
                out.write(body, bodyOffset, bodyBytes);
            } finally {
                FrameArrayPool.SHARED.give(compressed);
            }
        }
    }

    private void flush() throws IOException {
        if (position > 0) {
            out.write(buffer, 0, position);
            position = 0;
        }
        if (responsesInBuffer > 0) {
            int written = responsesInBuffer;
            responsesInBuffer = 0;
            onResponsesWritten.accept(written);
        }
    }
}
