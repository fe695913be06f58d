package io.loomkv.net.frame;

import java.io.IOException;

/**
 * The peer sent bytes that are not a valid frame: bad magic, unknown version or type, unknown
 * flags, a length out of range, a truncated frame, or a body that cannot be decoded. The
 * connection that carried it cannot be trusted any more and is closed.
 */
public final class FrameFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public FrameFormatException(String message) {
        super(message);
    }

    public FrameFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
