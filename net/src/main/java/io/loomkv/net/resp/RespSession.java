package io.loomkv.net.resp;

import java.net.SocketAddress;

/**
 * What one connection has chosen: protocol version, client name and library. Read and changed only
 * by the connection's reader thread (commands that touch it run there, in request order), so the
 * protocol a reply is encoded in is the one in force when its request was read.
 */
final class RespSession {
    private final long id;
    private final SocketAddress remote;
    private final long connectedAtMillis;
    private int protocol = 2;
    private String name = "";
    private String libraryName = "";
    private String libraryVersion = "";
    private boolean closeRequested;
    /** READONLY was sent (and no READWRITE since); volatile: the backend reads it on the threads commands run on. */
    private volatile boolean readOnly;

    RespSession(long id, SocketAddress remote, long connectedAtMillis) {
        this.id = id;
        this.remote = remote;
        this.connectedAtMillis = connectedAtMillis;
    }

    long id() {
        return id;
    }

    int protocol() {
        return protocol;
    }

    void protocol(int version) {
        if (version != 2 && version != 3) {
            throw new IllegalArgumentException("protocol must be 2 or 3, got " + version);
        }
        protocol = version;
    }

    String name() {
        return name;
    }

    void name(String newName) {
        name = newName;
    }

    void library(String libName, String libVersion) {
        if (libName != null) {
            libraryName = libName;
        }
        if (libVersion != null) {
            libraryVersion = libVersion;
        }
    }

    boolean readOnly() {
        return readOnly;
    }

    void readOnly(boolean allowed) {
        readOnly = allowed;
    }

    /** QUIT was read: answer it, then close. */
    void requestClose() {
        closeRequested = true;
    }

    boolean closeRequested() {
        return closeRequested;
    }

    /** One CLIENT INFO / CLIENT LIST line, in Redis's field names (those that mean something here). */
    String describe(long nowMillis) {
        return "id=" + id + " addr=" + RespArgs.hostPort(remote) + " name=" + name + " age="
                + (nowMillis - connectedAtMillis) / 1000 + " db=0 resp=" + protocol + " lib-name=" + libraryName
                + " lib-ver=" + libraryVersion;
    }
}
