package io.loomkv.net.frame;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Reads frames from a stream, many per read call when the peer pipelines them, and validates
 * every header before it reads or allocates anything for the body.
 *
 * <p>Two time limits guard the reading thread: the <em>idle</em> timeout bounds the wait for the
 * first byte of a frame, and the <em>partial-frame</em> timeout bounds the time from the first
 * byte of a frame to its last, so a peer trickling one byte at a time cannot hold a connection
 * open forever. Both are applied either through {@link ReadTimeout}, normally
 * {@code Socket::setSoTimeout}, or through a {@link ReadDeadline} that a watchdog thread enforces
 * (cheaper on virtual threads, see there).
 *
 * <p>Not thread-safe: one reader thread per connection. The body returned by {@link #bodyArray()}
 * is only valid until the next call to {@link #next()}: bodies larger than the read buffer, and
 * decompressed bodies, are read into arrays borrowed from {@link FrameArrayPool#SHARED}, which
 * that call gives back.
 */
public final class FrameReader {
    /** Sets the blocking-read timeout of the underlying stream; 0 means wait forever. */
    @FunctionalInterface
    public interface ReadTimeout {
        void setReadTimeoutMillis(int millis) throws IOException;
    }

    private static final int DEFAULT_BUFFER_SIZE_BYTES = 64 * 1024;
    private static final long NOT_STARTED = Long.MIN_VALUE;

    private final InputStream in;
    private final ReadTimeout readTimeout; // null when readDeadline is used
    private final ReadDeadline readDeadline; // null when readTimeout is used
    private final int maxFrameSizeBytes;
    private long idleTimeoutMillis;
    private final long partialFrameTimeoutMillis;
    private final FrameBodyDecoder bodyDecoder;
    private final byte[] buffer;
    private int readPosition;
    private int writePosition;
    private long frameStartNanos = NOT_STARTED;
    private int currentTimeoutMillis = -1;

    private byte[] bodyArray;
    private int bodyOffset;
    private int bodyLength;
    /** Borrowed from the pool for the current frame's wire body; null when it is in {@link #buffer}. */
    private byte[] lentWireBody;
    /** Borrowed from the pool for the current frame's decompressed body; null when none. */
    private byte[] lentDecompressed;
    private final IntFunction<byte[]> decompressedBodyArrays = this::decompressedBodyArray;

    /**
     * @param idleTimeoutMillis longest wait for the first byte of a frame; 0 waits forever
     * @param partialFrameTimeoutMillis longest time from a frame's first byte to its last; must be positive
     */
    public FrameReader(InputStream in, ReadTimeout readTimeout, int maxFrameSizeBytes, long idleTimeoutMillis,
            long partialFrameTimeoutMillis, FrameBodyDecoder bodyDecoder) {
        this(in, readTimeout, null, maxFrameSizeBytes, idleTimeoutMillis, partialFrameTimeoutMillis, bodyDecoder);
    }

    /** As above, with the limits enforced through {@code readDeadline} by the caller's watchdog. */
    public FrameReader(InputStream in, ReadDeadline readDeadline, int maxFrameSizeBytes, long idleTimeoutMillis,
            long partialFrameTimeoutMillis, FrameBodyDecoder bodyDecoder) {
        this(in, null, readDeadline, maxFrameSizeBytes, idleTimeoutMillis, partialFrameTimeoutMillis, bodyDecoder);
    }

    private FrameReader(InputStream in, ReadTimeout readTimeout, ReadDeadline readDeadline, int maxFrameSizeBytes,
            long idleTimeoutMillis, long partialFrameTimeoutMillis, FrameBodyDecoder bodyDecoder) {
        if ((readTimeout == null) == (readDeadline == null)) {
            throw new IllegalArgumentException("give exactly one of a read timeout and a read deadline");
        }
        if (maxFrameSizeBytes < FrameCodec.MIN_MAX_FRAME_SIZE_BYTES) {
            throw new IllegalArgumentException("maxFrameSizeBytes " + maxFrameSizeBytes + " below the minimum "
                    + FrameCodec.MIN_MAX_FRAME_SIZE_BYTES);
        }
        if (idleTimeoutMillis < 0 || idleTimeoutMillis > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("idleTimeoutMillis out of range: " + idleTimeoutMillis);
        }
        if (partialFrameTimeoutMillis <= 0 || partialFrameTimeoutMillis > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("partialFrameTimeoutMillis out of range: " + partialFrameTimeoutMillis);
        }
        this.in = in;
        this.readTimeout = readTimeout;
        this.readDeadline = readDeadline;
        this.maxFrameSizeBytes = maxFrameSizeBytes;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.partialFrameTimeoutMillis = partialFrameTimeoutMillis;
        this.bodyDecoder = bodyDecoder;
        this.buffer = new byte[Math.min(DEFAULT_BUFFER_SIZE_BYTES, maxFrameSizeBytes)];
    }

    /**
     * Reads the next frame. Returns its header, or {@code null} when the peer closed the stream
     * cleanly between frames. The (decompressed) body is then at {@link #bodyArray()}.
     *
     * @throws FrameFormatException on a malformed or truncated frame
     * @throws IdleTimeoutException when no frame started within the idle timeout
     * @throws SocketTimeoutException when a started frame did not complete within the partial-frame timeout
     */
    public FrameHeader next() throws IOException {
        releaseArrays();
        if (!fill(FrameCodec.HEADER_SIZE_BYTES, FrameCodec.HEADER_SIZE_BYTES)) {
            return null;
        }
        FrameHeader header = FrameCodec.readHeader(buffer, readPosition, maxFrameSizeBytes);
        int frameSizeBytes = FrameCodec.HEADER_SIZE_BYTES + header.bodyLengthBytes();
        byte[] wireBody;
        int wireOffset;
        if (frameSizeBytes <= buffer.length) {
            fill(frameSizeBytes, frameSizeBytes);
            wireBody = buffer;
            wireOffset = readPosition + FrameCodec.HEADER_SIZE_BYTES;
            readPosition += frameSizeBytes;
        } else {
            wireBody = readLargeBody(header.bodyLengthBytes(), frameSizeBytes);
            wireOffset = 0;
        }
        frameStartNanos = NOT_STARTED;
        if (header.hasFlag(FrameFlags.LZ4)) {
            bodyLength = bodyDecoder.decompress(wireBody, wireOffset, header.bodyLengthBytes(),
                    maxFrameSizeBytes - FrameCodec.HEADER_SIZE_BYTES, decompressedBodyArrays);
            bodyOffset = 0;
        } else {
            bodyArray = wireBody;
            bodyOffset = wireOffset;
            bodyLength = header.bodyLengthBytes();
        }
        return header;
    }

    /** Gives the arrays the current body borrowed back to the pool; the body is invalid from here. */
    private void releaseArrays() {
        if (lentWireBody != null) {
            FrameArrayPool.SHARED.give(lentWireBody);
            lentWireBody = null;
        }
        if (lentDecompressed != null) {
            FrameArrayPool.SHARED.give(lentDecompressed);
            lentDecompressed = null;
        }
        bodyArray = null;
    }

    /** Changes the idle timeout, e.g. from the handshake limit to the steady-state one; 0 waits forever. */
    public void setIdleTimeoutMillis(long millis) {
        if (millis < 0 || millis > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("idle timeout out of range: " + millis);
        }
        idleTimeoutMillis = millis;
    }

    public byte[] bodyArray() {
        return bodyArray;
    }

    public int bodyOffset() {
        return bodyOffset;
    }

    public int bodyLength() {
        return bodyLength;
    }

    /** True when bytes of a further frame are already buffered (the peer pipelined it). */
    public boolean hasBufferedBytes() {
        return writePosition > readPosition;
    }

    /**
     * True when the next {@link #next()} can return a whole frame without reading the stream. A
     * connection uses it to hold back its writer while it works through a pipelined batch.
     */
    public boolean hasCompleteFrameBuffered() {
        int buffered = writePosition - readPosition;
        if (buffered < FrameCodec.HEADER_SIZE_BYTES) {
            return false;
        }
        int bodyLengthBytes = FrameCodec.bodyLengthAt(buffer, readPosition);
        return bodyLengthBytes >= 0 && buffered - FrameCodec.HEADER_SIZE_BYTES >= bodyLengthBytes;
    }

    /**
     * A body that does not fit the buffer. The array grows (doubling) as bytes actually arrive
     * rather than being allocated at the declared length up front, so a peer that announces a
     * maximum-size frame and then stalls costs memory only for what it really sent.
     */
    private byte[] readLargeBody(int bodyLengthBytes, int frameSizeBytes) throws IOException {
        int buffered = writePosition - readPosition - FrameCodec.HEADER_SIZE_BYTES;
        byte[] body;
        if (bodyLengthBytes <= FrameArrayPool.LARGEST_CLASS_BYTES) {
            // At most 1 MiB however little has arrived: the bound the growth below keeps for larger bodies.
            body = lentWireBody = FrameArrayPool.SHARED.take(bodyLengthBytes);
        } else {
            body = new byte[Math.min(bodyLengthBytes, Math.max(2 * buffer.length, buffered))];
        }
        System.arraycopy(buffer, readPosition + FrameCodec.HEADER_SIZE_BYTES, body, 0, buffered);
        readPosition = 0;
        writePosition = 0;
        int have = buffered;
        while (have < bodyLengthBytes) {
            if (have == body.length) {
                body = Arrays.copyOf(body, (int) Math.min(bodyLengthBytes, 2L * body.length));
            }
            // A borrowed array may be longer than this body: never read into the next frame's bytes.
            int room = Math.min(body.length, bodyLengthBytes) - have;
            int n = readWithTimeout(body, have, room, FrameCodec.HEADER_SIZE_BYTES + have, frameSizeBytes);
            if (n < 0) {
                throw truncated(FrameCodec.HEADER_SIZE_BYTES + have, frameSizeBytes);
            }
            have += n;
        }
        return body;
    }

    /** The array a decompressed body of {@code lengthBytes} goes into, which becomes {@link #bodyArray()}. */
    private byte[] decompressedBodyArray(int lengthBytes) {
        bodyArray = lentDecompressed = FrameArrayPool.SHARED.take(lengthBytes);
        return bodyArray;
    }

    /**
     * Makes at least {@code needed} bytes available from {@code readPosition}. Returns false on a
     * clean end of stream with nothing buffered.
     */
    private boolean fill(int needed, int frameSizeBytes) throws IOException {
        if (writePosition - readPosition >= needed) {
            return true;
        }
        if (readPosition + needed > buffer.length) {
            int buffered = writePosition - readPosition;
            System.arraycopy(buffer, readPosition, buffer, 0, buffered);
            readPosition = 0;
            writePosition = buffered;
        }
        while (writePosition - readPosition < needed) {
            int buffered = writePosition - readPosition;
            int n = readWithTimeout(buffer, writePosition, buffer.length - writePosition, buffered, frameSizeBytes);
            if (n < 0) {
                if (buffered == 0) {
                    return false;
                }
                throw truncated(buffered, needed > FrameCodec.HEADER_SIZE_BYTES ? frameSizeBytes : -1);
            }
            writePosition += n;
        }
        return true;
    }

    private int readWithTimeout(byte[] into, int offset, int length, int haveOfFrame, int frameSizeBytes)
            throws IOException {
        boolean idle = haveOfFrame == 0;
        if (readDeadline != null) {
            return readBeforeDeadline(into, offset, length, idle, haveOfFrame, frameSizeBytes);
        }
        long timeoutMillis;
        if (idle) {
            timeoutMillis = idleTimeoutMillis;
        } else {
            long now = System.nanoTime();
            if (frameStartNanos == NOT_STARTED) {
                frameStartNanos = now;
            }
            long elapsedMillis = (now - frameStartNanos) / 1_000_000;
            timeoutMillis = partialFrameTimeoutMillis - elapsedMillis;
            if (timeoutMillis <= 0) {
                throw partialTimeout(haveOfFrame, frameSizeBytes);
            }
        }
        setTimeout((int) timeoutMillis);
        int n;
        try {
            n = in.read(into, offset, length);
        } catch (SocketTimeoutException e) {
            if (idle) {
                SocketTimeoutException idleTimeout = new IdleTimeoutException(
                        "idle: no frame started within " + idleTimeoutMillis + " ms");
                idleTimeout.initCause(e);
                throw idleTimeout;
            }
            SocketTimeoutException partial = partialTimeout(haveOfFrame, frameSizeBytes);
            partial.initCause(e);
            throw partial;
        }
        // The partial-frame clock starts at the first wait for the rest of a frame (see above), not
        // here: reading the clock once per read would cost more than the slack it saves.
        return n;
    }

    /** One read under a {@link ReadDeadline}: idle until the idle limit, inside a frame until the frame's limit. */
    private int readBeforeDeadline(byte[] into, int offset, int length, boolean idle, int haveOfFrame,
            int frameSizeBytes) throws IOException {
        long now = System.nanoTime();
        boolean armed = true;
        if (idle) {
            if (idleTimeoutMillis == 0) {
                armed = false;
            } else {
                readDeadline.arm(now + idleTimeoutMillis * 1_000_000);
            }
        } else {
            if (frameStartNanos == NOT_STARTED) {
                frameStartNanos = now;
            }
            long deadline = frameStartNanos + partialFrameTimeoutMillis * 1_000_000;
            if (now - deadline >= 0) {
                throw partialTimeout(haveOfFrame, frameSizeBytes);
            }
            readDeadline.arm(deadline);
        }
        int n;
        try {
            n = in.read(into, offset, length);
        } catch (IOException e) {
            if (armed && !readDeadline.disarm()) {
                throw deadlineExceeded(idle, haveOfFrame, frameSizeBytes, e);
            }
            throw e;
        }
        if (armed && !readDeadline.disarm()) {
            // Cut off just as the read returned: the input is shut, so report the timeout now.
            throw deadlineExceeded(idle, haveOfFrame, frameSizeBytes, null);
        }
        return n;
    }

    private SocketTimeoutException deadlineExceeded(boolean idle, int haveOfFrame, int frameSizeBytes, IOException cause) {
        SocketTimeoutException timeout = idle
                ? new IdleTimeoutException("idle: no frame started within " + idleTimeoutMillis + " ms")
                : partialTimeout(haveOfFrame, frameSizeBytes);
        if (cause != null) {
            timeout.initCause(cause);
        }
        return timeout;
    }

    private void setTimeout(int millis) throws IOException {
        if (millis != currentTimeoutMillis) {
            readTimeout.setReadTimeoutMillis(millis);
            currentTimeoutMillis = millis;
        }
    }

    private SocketTimeoutException partialTimeout(int haveOfFrame, int frameSizeBytes) {
        return new SocketTimeoutException("partial frame not completed within " + partialFrameTimeoutMillis
                + " ms (" + describeProgress(haveOfFrame, frameSizeBytes) + ")");
    }

    private static FrameFormatException truncated(int haveOfFrame, int frameSizeBytes) {
        return new FrameFormatException("truncated frame: stream ended after "
                + describeProgress(haveOfFrame, frameSizeBytes));
    }

    private static String describeProgress(int haveOfFrame, int frameSizeBytes) {
        return frameSizeBytes > FrameCodec.HEADER_SIZE_BYTES
                ? haveOfFrame + " of " + frameSizeBytes + " bytes"
                : haveOfFrame + " of the " + FrameCodec.HEADER_SIZE_BYTES + " header bytes";
    }

    /** For streams without timeouts (tests, in-memory streams): the limits are not applied. */
    public static ReadTimeout noTimeouts() {
        return millis -> { };
    }
}
