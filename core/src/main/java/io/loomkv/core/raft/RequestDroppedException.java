package io.loomkv.core.raft;

/**
 * A proposal, read or leadership transfer that the node cannot take right now: there is no
 * known leader, a leadership transfer is in progress, a limit was reached, and so on. Nothing
 * changed; the caller may retry later or at another node.
 */
public final class RequestDroppedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RequestDroppedException(String message) {
        super(message);
    }
}
