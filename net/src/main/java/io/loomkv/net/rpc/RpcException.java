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
    private final String detail;

    public RpcException(ErrorReply.Code code, String detail) {
        super(code + ": " + detail);
        this.code = code;
        this.detail = detail;
    }

    public RpcException(ErrorReply.Code code, String detail, Throwable cause) {
        super(code + ": " + detail, cause);
        this.code = code;
        this.detail = detail;
    }

    public ErrorReply.Code code() {
        return code;
    }

    /** The message without the code: what a server puts into its {@code ErrorReply}. */
    public String detail() {
        return detail;
    }
}
