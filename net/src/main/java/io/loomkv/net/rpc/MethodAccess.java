package io.loomkv.net.rpc;

/** Who may call a method: anyone, or only connections that completed the peer handshake. */
public enum MethodAccess {
    /** Clients and peers. */
    ANY,
    /** Only peers that presented the right cluster id; refused on client connections (e.g. Raft traffic). */
    PEER_ONLY
}
