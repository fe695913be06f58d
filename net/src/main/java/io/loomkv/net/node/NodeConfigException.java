package io.loomkv.net.node;

/** A node config that cannot be used; the message names the key and where it came from. */
public final class NodeConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    public NodeConfigException(String message) {
        super(message);
    }
}
