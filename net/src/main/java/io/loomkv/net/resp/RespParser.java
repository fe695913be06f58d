package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads RESP2 requests from a blocking stream: arrays of bulk strings ({@code *2\r\n$3\r\nGET\r\n$1\r\nk\r\n})
 * and inline commands ({@code PING\r\n}, split like Redis's {@code sdssplitargs}, quotes included).
 *
 * <p>Every limit is checked before anything is allocated for it: a declared bulk length over
 * {@code maxBulkBytes}, an array over {@code maxArrayLength}, a header or inline line over
 * {@code maxInlineBytes} and a request over {@code maxRequestBytes} throw
 * {@link RespProtocolException} with Redis's texts. A bulk within the limit still only grows as its
 * bytes arrive, so a client that declares a large value and sends nothing costs nothing.
 *
 * <p>Not thread-safe: one reader per connection.
 */
public final class RespParser {
    private static final int INITIAL_BUFFER_BYTES = 16 * 1024;
    /** A bulk up to this size is allocated whole at once; a larger one grows as its bytes arrive. */
    private static final int EAGER_BULK_BYTES = 64 * 1024;
    /** What an empty request (blank inline line, {@code *0}, {@code *-1}) parses to: Redis ignores it. */
    public static final List<ByteString> EMPTY = List.of();

    private final InputStream in;
    private final int maxBulkBytes;
    private final int maxArrayLength;
    private final int maxInlineBytes;
    private final int maxRequestBytes;
    private byte[] buffer = new byte[INITIAL_BUFFER_BYTES];
    private int start;
    private int end;

    public RespParser(InputStream in, int maxBulkBytes, int maxArrayLength, int maxInlineBytes, int maxRequestBytes) {
        this.in = in;
        this.maxBulkBytes = maxBulkBytes;
        this.maxArrayLength = maxArrayLength;
        this.maxInlineBytes = maxInlineBytes;
        this.maxRequestBytes = maxRequestBytes;
    }

    public static RespParser of(InputStream in, RespServerConfig config) {
        return new RespParser(in, config.maxBulkBytes(), config.maxArrayLength(), config.maxInlineBytes(),
                config.maxRequestBytes());
    }

    /**
     * The next request's arguments ({@link #EMPTY} for a request Redis ignores), or null at end of
     * stream between requests.
     *
     * @throws EOFException when the stream ends inside a request
     * @throws RespProtocolException on malformed input or a request over a limit
     */
    public List<ByteString> next() throws IOException {
        if (start == end && fill() < 0) {
            return null;
        }
        return buffer[start] == '*' ? readArray() : readInline();
    }

    /** True when bytes of a further request are already buffered (the client is pipelining). */
    public boolean hasBufferedInput() {
        return start < end;
    }

    private List<ByteString> readArray() throws IOException {
        long count = readNumberLine("too big mbulk count string", "invalid multibulk length");
        if (count <= 0) {
            return EMPTY;
        }
        if (count > maxArrayLength) {
            throw new RespProtocolException("invalid multibulk length");
        }
        // Sized by what can arrive soon, not by the declared count: a count costs nothing until its bulks come.
        List<ByteString> arguments = new ArrayList<>((int) Math.min(count, 16));
        long requestBytes = 0;
        for (int i = 0; i < count; i++) {
            requireBuffered(1);
            if (buffer[start] != '$') {
                throw new RespProtocolException("expected '$', got '" + printable(buffer[start]) + "'");
            }
            long length = readNumberLine("too big bulk count string", "invalid bulk length");
            if (length < 0 || length > maxBulkBytes) {
                throw new RespProtocolException("invalid bulk length");
            }
            requestBytes += length;
            if (requestBytes > maxRequestBytes) {
                throw new RespProtocolException("request of more than " + maxRequestBytes + " bytes");
            }
            arguments.add(readBulk((int) length));
        }
        return arguments;
    }

    /** Reads a {@code *N} or {@code $N} line (the type byte is at {@code start}) and returns N. */
    private long readNumberLine(String tooLong, String invalid) throws IOException {
        int lineEnd = findLineEnd(tooLong);
        if (lineEnd - 1 < 0 || buffer[lineEnd - 1] != '\r') {
            throw new RespProtocolException(invalid);
        }
        long value = parseLong(buffer, start + 1, lineEnd - 1);
        start = lineEnd + 1;
        if (value == Long.MIN_VALUE) {
            throw new RespProtocolException(invalid);
        }
        return value;
    }

    private ByteString readBulk(int length) throws IOException {
        byte[] value = new byte[Math.min(length, EAGER_BULK_BYTES)];
        int filled = 0;
        while (filled < length) {
            if (start == end && fill() < 0) {
                throw new EOFException("connection closed inside a bulk string");
            }
            if (filled == value.length) {
                value = Arrays.copyOf(value, (int) Math.min(length, 2L * value.length));
            }
            int n = Math.min(end - start, value.length - filled);
            System.arraycopy(buffer, start, value, filled, n);
            start += n;
            filled += n;
        }
        requireBuffered(2);
        if (buffer[start] != '\r' || buffer[start + 1] != '\n') {
            throw new RespProtocolException("expected CRLF after a bulk string of " + length + " bytes");
        }
        start += 2;
        return UnsafeByteOperations.unsafeWrap(value);
    }

    private List<ByteString> readInline() throws IOException {
        int lineEnd = findLineEnd("too big inline request");
        int contentEnd = lineEnd > start && buffer[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
        List<ByteString> arguments = InlineSplitter.split(buffer, start, contentEnd, maxArrayLength);
        start = lineEnd + 1;
        if (arguments == null) {
            throw new RespProtocolException("unbalanced quotes in request");
        }
        return arguments;
    }

    /** The index of the next '\n' at or after {@code start}, reading more as needed, within {@link #maxInlineBytes}. */
    private int findLineEnd(String tooLong) throws IOException {
        int scannedBytes = 0; // Relative to start: fill() may move the buffered bytes.
        while (true) {
            for (int i = start + scannedBytes; i < end; i++) {
                if (buffer[i] == '\n') {
                    if (i - start > maxInlineBytes) {
                        throw new RespProtocolException(tooLong); // Arrived whole, still too long.
                    }
                    return i;
                }
            }
            scannedBytes = end - start;
            if (scannedBytes > maxInlineBytes) {
                throw new RespProtocolException(tooLong);
            }
            if (fill() < 0) {
                throw new EOFException("connection closed inside a request line");
            }
        }
    }

    private void requireBuffered(int bytes) throws IOException {
        while (end - start < bytes) {
            if (fill() < 0) {
                throw new EOFException("connection closed inside a request");
            }
        }
    }

    /**
     * Reads at least one byte more into the buffer (compacting it, and growing it up to a line's
     * limit when a line fills it); returns -1 at end of stream.
     */
    private int fill() throws IOException {
        if (start == end) {
            start = 0;
            end = 0;
        } else if (end == buffer.length) {
            if (start > 0) {
                System.arraycopy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            } else {
                int grown = Math.min(2 * buffer.length, maxInlineBytes + 2);
                if (grown <= buffer.length) {
                    throw new IllegalStateException("buffer of " + buffer.length + " bytes full within one line");
                }
                buffer = Arrays.copyOf(buffer, grown);
            }
        }
        int n = in.read(buffer, end, buffer.length - end);
        if (n > 0) {
            end += n;
        }
        return n;
    }

    /**
     * The decimal integer in {@code bytes[from, to)} as Redis's {@code string2ll} accepts it
     * (optional '-', no '+', no leading zeros, no spaces), or {@link Long#MIN_VALUE} when malformed
     * or out of range.
     */
    static long parseLong(byte[] bytes, int from, int to) {
        int length = to - from;
        if (length < 1 || length > 20) {
            return Long.MIN_VALUE;
        }
        boolean negative = bytes[from] == '-';
        int i = negative ? from + 1 : from;
        if (i == to || (bytes[i] == '0' && to - i > 1) || (negative && bytes[i] == '0')) {
            return Long.MIN_VALUE;
        }
        long value = 0;
        for (; i < to; i++) {
            int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9) {
                return Long.MIN_VALUE;
            }
            if (value < (Long.MIN_VALUE + digit) / 10) {
                return Long.MIN_VALUE;
            }
            value = value * 10 - digit; // Accumulate negatively: Long.MIN_VALUE has no positive twin.
        }
        if (negative) {
            return value == Long.MIN_VALUE ? Long.MIN_VALUE : value;
        }
        return value == Long.MIN_VALUE ? Long.MIN_VALUE : -value;
    }

    private static String printable(byte b) {
        return b >= 0x20 && b < 0x7f ? Character.toString(b) : String.format("\\x%02x", b & 0xff);
    }
}
