package io.loomkv.net.node;

import io.loomkv.core.raft.proto.Message;
import io.loomkv.net.node.proto.RemovedNotice;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends Raft messages to peers as one-way RPCs over peer connections (which present the cluster
 * id and our node id in the handshake). Never blocks: a message that cannot be queued is dropped
 * and reported, and Raft resends.
 */
final class PeerTransport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerTransport.class);

    private final Membership membership;
    private final RpcClient client;
    private final PeerFaults faults = new PeerFaults();

    PeerTransport(String clusterId, long nodeId, Membership membership) {
        this.membership = membership;
        this.client = new RpcClient(RpcClientConfig.peer(clusterId, nodeId).withConnectionsPerEndpoint(1));
    }

    /** Queues {@code message}; false when it was dropped (unknown peer, no connection, full queue). */
    boolean send(Message message) {
        if (faults.shouldDrop(message)) {
            return true; // Lost on the "network": the sender cannot tell.
        }
        if (faults.delay(message, this::sendNow)) {
            return true; // Held back by the "network"; sent later (or lost), reordered with others.
        }
        return sendNow(message);
    }

    private boolean sendNow(Message message) {
        MemberAddress peer = membership.get(message.getTo());
        if (peer == null) {
            LOG.debug("no address for node {}; dropping {}", message.getTo(), message.getType());
            return false;
        }
        try {
            return client.endpoint(peer.peerAddress()).send(NodeMethods.RAFT_MESSAGE, message);
        } catch (RuntimeException e) {
            LOG.debug("sending {} to {} failed: {}", message.getType(), message.getTo(), e.toString());
            return false;
        }
    }

    PeerFaults faults() {
        return faults;
    }

    /** Tells node {@code to} that it is no longer a member; best effort. */
    void sendRemovedNotice(long to, long from, MemberAddress address) {
        if (address == null) {
            return;
        }
        try {
            client.endpoint(address.peerAddress()).send(NodeMethods.REMOVED_NOTICE,
                    RemovedNotice.newBuilder().setNodeId(to).setFrom(from).build());
        } catch (RuntimeException e) {
            LOG.debug("removed notice to {} failed: {}", to, e.toString());
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
