package io.loomkv.net.rpc;

import io.loomkv.net.proto.ErrorReply;

/**
 * A call did not succeed. The code says why: the server's {@code ErrorReply} code, or a local one
 * ({@code CODE_UNAVAILABLE} when the connection failed, {@code CODE_TIMEOUT} when the deadline
 * passed, {@code CODE_SHUTTING_DOWN} when either side is closing). When the code is
 * {@code CODE_UNAVAILABLE} or {@code CODE_TIMEOUT}, the request may or may not have executed.
 */
public class RpcException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorReply.Code code;

    public RpcException(ErrorReply.Code code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    public RpcException(ErrorReply.Code code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    public ErrorReply.Code code() {
        return code;
    }
}
