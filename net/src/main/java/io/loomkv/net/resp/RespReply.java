package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * One reply value. The RESP3-only types have a RESP2 form the {@link RespEncoder} picks when the
 * connection has not chosen {@code HELLO 3}: a map becomes a flat array of keys and values, a
 * null becomes {@code $-1} (or {@code *-1}), a double a bulk string, a boolean the integer 1 or 0.
 */
public sealed interface RespReply {
    RespReply OK = new SimpleString("OK");
    RespReply NULL_BULK = new NullBulk();
    RespReply NULL_ARRAY = new NullArray();
    RespReply EMPTY_ARRAY = new Array(List.of());

    /** {@code +text}; the text must hold no CR or LF (the encoder replaces them with spaces). */
    record SimpleString(String text) implements RespReply {}

    /** {@code -text}, where the text starts with the error code: {@code "ERR syntax error"}, {@code "MOVED 12 h:p"}. */
    record Error(String text) implements RespReply {}

    record Integer(long value) implements RespReply {}

    record Bulk(ByteString value) implements RespReply {}

    /** A missing value: {@code $-1} in RESP2, {@code _} in RESP3. */
    record NullBulk() implements RespReply {}

    record Array(List<RespReply> elements) implements RespReply {}

    /** A missing array: {@code *-1} in RESP2, {@code _} in RESP3. */
    record NullArray() implements RespReply {}

    /** Keys and values alternating, so {@code entries} has even length. */
    record Map(List<RespReply> entries) implements RespReply {
        public Map {
            if (entries.size() % 2 != 0) {
                throw new IllegalArgumentException("a map needs keys and values in pairs, got " + entries.size() + " elements");
            }
        }
    }

    record Double(double value) implements RespReply {}

    record Boolean(boolean value) implements RespReply {}

    static RespReply error(String text) {
        return new Error(text);
    }

    static RespReply bulk(String utf8) {
        return new Bulk(ByteString.copyFromUtf8(utf8));
    }

    static RespReply integer(long value) {
        return new Integer(value);
    }
}
