package io.loomkv.net.rpc;

import java.io.IOException;

/**
 * Well-formed frames used the wrong way: no handshake first, a frame type the side does not
 * accept, a request id reused while in flight, a peer-only message on a client connection. The
 * connection is closed.
 */
final class ProtocolViolationException extends IOException {
    private static final long serialVersionUID = 1L;

    ProtocolViolationException(String message) {
        super(message);
    }
}
