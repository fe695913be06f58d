package io.loomkv.net.resp;

import java.io.IOException;

/**
 * The client sent bytes that are not RESP, or a request over a limit. The connection answers
 * {@code -ERR Protocol error: <message>} and closes, as Redis does; other connections are not
 * affected.
 */
public final class RespProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message the text after {@code "Protocol error: "}, e.g. {@code "invalid bulk length"} */
    public RespProtocolException(String message) {
        super(message);
    }

    /** The error line's text without the leading '-': {@code ERR Protocol error: ...}. */
    public String errorText() {
        return "ERR Protocol error: " + getMessage();
    }
}
