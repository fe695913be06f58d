package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Encodes replies into one reusable buffer, so a pipeline's replies leave in one socket write
 * ({@link #flushTo}). RESP2 or RESP3 is chosen per reply, since {@code HELLO} switches a
 * connection between them. Not thread-safe: one writer per connection.
 */
public final class RespEncoder {
    private static final int INITIAL_BUFFER_BYTES = 16 * 1024;
    /** After a flush a buffer grown beyond this (one large reply) is given back. */
    private static final int RETAINED_BUFFER_BYTES = 1024 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] RESP2_NULL_BULK = "$-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESP2_NULL_ARRAY = "*-1\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESP3_NULL = "_\r\n".getBytes(StandardCharsets.US_ASCII);
    /** Nesting deeper than this is a bug in a command, not a reply to send. */
    private static final int MAX_DEPTH = 32;

    private byte[] buffer = new byte[INITIAL_BUFFER_BYTES];
    private int length;

    /** Appends {@code reply} in protocol 2 or 3. */
    public void write(RespReply reply, int protocol) {
        if (protocol != 2 && protocol != 3) {
            throw new IllegalArgumentException("RESP protocol must be 2 or 3, got " + protocol);
        }
        write(reply, protocol == 3, 0);
    }

    private void write(RespReply reply, boolean resp3, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("reply nested deeper than " + MAX_DEPTH);
        }
        switch (reply) {
            case RespReply.SimpleString s -> line('+', s.text());
            case RespReply.Error e -> line('-', e.text());
            case RespReply.Integer i -> number(':', i.value());
            case RespReply.Bulk b -> bulk(b.value());
            case RespReply.NullBulk n -> put(resp3 ? RESP3_NULL : RESP2_NULL_BULK);
            case RespReply.NullArray n -> put(resp3 ? RESP3_NULL : RESP2_NULL_ARRAY);
            case RespReply.Array a -> aggregate('*', a.elements().size(), a.elements(), resp3, depth);
            case RespReply.Map m -> aggregate(resp3 ? '%' : '*', resp3 ? m.entries().size() / 2 : m.entries().size(),
                    m.entries(), resp3, depth);
            case RespReply.Double d -> {
                if (resp3) {
                    line(',', formatDouble(d.value()));
                } else {
                    bulk(ByteString.copyFromUtf8(formatDouble(d.value())));
                }
            }
            case RespReply.Boolean b -> {
                if (resp3) {
                    line('#', b.value() ? "t" : "f");
                } else {
                    number(':', b.value() ? 1 : 0);
                }
            }
        }
    }

    private void aggregate(char type, int count, List<RespReply> elements, boolean resp3, int depth) {
        number(type, count);
        for (RespReply element : elements) {
            write(element, resp3, depth + 1);
        }
    }

    private void bulk(ByteString value) {
        number('$', value.size());
        ensure(value.size() + 2);
        value.copyTo(buffer, length);
        length += value.size();
        put(CRLF);
    }

    /** A simple string or error line; CR and LF would end the line early, so they become spaces (as Redis does). */
    private void line(char type, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ensure(bytes.length + 3);
        buffer[length++] = (byte) type;
        for (byte b : bytes) {
            buffer[length++] = b == '\r' || b == '\n' ? (byte) ' ' : b;
        }
        put(CRLF);
    }

    private void number(char type, long value) {
        ensure(24);
        buffer[length++] = (byte) type;
        if (value == Long.MIN_VALUE) {
            put("-9223372036854775808".getBytes(StandardCharsets.US_ASCII));
        } else {
            if (value < 0) {
                buffer[length++] = '-';
                value = -value;
            }
            int digits = 1;
            for (long v = value; v >= 10; v /= 10) {
                digits++;
            }
            for (int i = digits - 1; i >= 0; i--) {
                buffer[length + i] = (byte) ('0' + value % 10);
                value /= 10;
            }
            length += digits;
        }
        put(CRLF);
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buffer, length, bytes.length);
        length += bytes.length;
    }

    private void ensure(int more) {
        if (length + more > buffer.length) {
            long wanted = Math.max(2L * buffer.length, (long) length + more);
            if (wanted > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("reply buffer would exceed 2 GiB (" + length + " + " + more + " bytes)");
            }
            buffer = Arrays.copyOf(buffer, (int) wanted);
        }
    }

    /** Bytes encoded and not yet flushed. */
    public int length() {
        return length;
    }

    /** Writes everything encoded so far in one write and empties the buffer. */
    public void flushTo(OutputStream out) throws IOException {
        if (length > 0) {
            out.write(buffer, 0, length);
            out.flush();
        }
        length = 0;
        if (buffer.length > RETAINED_BUFFER_BYTES) {
            buffer = new byte[INITIAL_BUFFER_BYTES];
        }
    }

    /** The encoded bytes so far (a copy), for tests. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buffer, length);
    }

    /**
     * A double as Redis prints one ({@code %.17g} without trailing zeros): {@code 3}, {@code 10.5},
     * {@code 1.0000000000000001e+20}; {@code inf}, {@code -inf} and {@code nan} spelled as RESP3 wants.
     */
    public static String formatDouble(double value) {
        if (Double.isNaN(value)) {
            return "nan";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0) {
            return 1 / value < 0 ? "-0" : "0";
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(17)).stripTrailingZeros();
        int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent < -4 || exponent >= 17) {
            BigDecimal mantissa = rounded.movePointLeft(exponent).stripTrailingZeros();
            return mantissa.toPlainString() + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "")
                    + Math.abs(exponent);
        }
        return rounded.toPlainString();
    }
}
