package io.loomkv.net.rpc;

import io.loomkv.net.proto.ErrorReply;

/** The call's deadline passed before its response arrived; the server may still execute it. */
public final class RpcTimeoutException extends RpcException {
    private static final long serialVersionUID = 1L;

    public RpcTimeoutException(String message) {
        super(ErrorReply.Code.CODE_TIMEOUT, message);
    }
}
