package io.loomkv.tools.chaos;

import io.loomkv.net.node.MemberAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * One server of a chaos run: where it listens (clients directly, peers through its
 * {@link PeerProxy}), where its files are, and its process while it runs. Mutated only by the
 * runner's fault thread.
 */
final class ChaosNode {
    final long id;
    final InetSocketAddress clientAddress;
    /** Where the server itself listens for peers; only its proxy connects here. */
    final InetSocketAddress peerAddress;
    /** What every member (this one included) has in its book as this node's peer address. */
    final InetSocketAddress proxyAddress;
    final Path dataDirectory;
    final Path configFile;
    final boolean joined;
    ProcessHandle process;
    boolean paused;
    boolean removed;

    ChaosNode(long id, InetSocketAddress clientAddress, InetSocketAddress peerAddress, InetSocketAddress proxyAddress,
            Path dataDirectory, Path configFile, boolean joined) {
        this.id = id;
        this.clientAddress = clientAddress;
        this.peerAddress = peerAddress;
        this.proxyAddress = proxyAddress;
        this.dataDirectory = dataDirectory;
        this.configFile = configFile;
        this.joined = joined;
    }

    /** As other members should know it: real client address, proxied peer address. */
    MemberAddress asMember() {
        return new MemberAddress(id, clientAddress, proxyAddress);
    }

    boolean isRunning() {
        return process != null && process.isAlive();
    }

    @Override
    public String toString() {
        return "node " + id;
    }
}
