package io.loomkv.net.resp;

/**
 * A command failed with an error the client should see as it is: {@code -<text>}. The text
 * starts with the error code, e.g. {@code "ERR syntax error"}; a backend embedded in a store will
 * throw {@code "MOVED 3999 10.0.0.2:6380"} or {@code "CLUSTERDOWN ..."} the same way, which is why
 * the code is part of the text rather than fixed to ERR.
 */
public final class RespError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RespError(String text) {
        super(text, null, false, false);
    }

    /** {@code ERR <message>}. */
    public static RespError err(String message) {
        return new RespError("ERR " + message);
    }

    public static RespError syntax() {
        return err("syntax error");
    }

    public static RespError notAnInteger() {
        return err("value is not an integer or out of range");
    }

    public RespReply reply() {
        return new RespReply.Error(getMessage());
    }
}
