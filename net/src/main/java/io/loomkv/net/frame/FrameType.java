package io.loomkv.net.frame;

/** What a frame is for; the one-byte code sits at offset 5 of the frame header. */
public enum FrameType {
    /** First frame on a connection in each direction: a {@code Hello} body. */
    HELLO(1),
    /** A request that expects exactly one {@link #RESPONSE} with the same request id. */
    REQUEST(2),
    /** The answer to a {@link #REQUEST}; with {@link FrameFlags#ERROR} its body is an {@code ErrorReply}. */
    RESPONSE(3),
    /** A message that expects no answer (e.g. Raft traffic, which answers with messages of its own). */
    ONE_WAY(4);

    private static final FrameType[] BY_CODE = {null, HELLO, REQUEST, RESPONSE, ONE_WAY};

    private final int code;

    FrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type for a wire code, or {@code null} when the code is unknown. */
    public static FrameType fromCode(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
