package io.loomkv.net.node;

import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.replica.RemovalNotices;
import io.loomkv.net.node.proto.RemovalQuery;
import io.loomkv.net.node.proto.RemovedNotice;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcEndpoint;
import io.loomkv.net.store.proto.GroupMessage;
import io.loomkv.net.store.proto.QuiesceNotice;
import io.loomkv.net.store.proto.WakeNotice;
import io.loomkv.net.store.proto.StoreHeartbeat;
import io.loomkv.net.store.proto.StoreReport;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raft traffic between this store and its peers: one connection per peer store carries the
 * messages of every group, queued per destination and sent as one frame per flush (see
 * {@link PeerOutbox}). The replica workers flush after a round of turns, so what a round produced
 * for a store (the heartbeats of all the groups that ticked, appends, acknowledgements) goes in
 * one frame. Never blocks: a message that cannot be queued is reported, and Raft resends.
 *
 * <p>Reconnecting is kept fast: the backoff towards a peer is capped at half an election timeout
 * (a store that comes back must be reachable again within about a heartbeat, or a leader that
 * failed to reach it loses its majority when another store dies meanwhile), and a handshake from
 * a peer, which proves it is back, resets the backoff towards it at once.
 */
final class StoreTransport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreTransport.class);
    private static final StoreHeartbeat HEARTBEAT = StoreHeartbeat.getDefaultInstance();

    private final long storeId;
    private final Membership membership;
    private final RpcClient client;
    private final PeerFaults faults = new PeerFaults();
    private final ConcurrentHashMap<Long, PeerOutbox> outboxes = new ConcurrentHashMap<>();
    /** Null: round trips are not measured (tests that build a transport alone). */
    private volatile PeerRoundTrips roundTrips;

    StoreTransport(String clusterId, long storeId, Membership membership, Duration electionTimeout) {
        this(storeId, membership, peerClientConfig(clusterId, storeId, electionTimeout));
    }

    /** With the peer client's configuration given (tests). */
    StoreTransport(long storeId, Membership membership, RpcClientConfig peerClientConfig) {
        this.storeId = storeId;
        this.membership = membership;
        this.client = new RpcClient(peerClientConfig);
    }

    /** Reports the bytes of the peer connections opened from now on (metrics); call before {@link #connect}. */
    void observeTraffic(io.loomkv.net.rpc.TrafficObserver observer) {
        client.observeTraffic(observer);
    }

    /** Measures round trips from the heartbeats sent from now on. */
    void measureRoundTrips(PeerRoundTrips roundTrips) {
        this.roundTrips = roundTrips;
    }

    /**
     * One connection per peer store; reconnects back off from 10 ms up to half an election timeout
     * (at least 50 ms), so a store that is back is reached again well within an election timeout.
     */
    static RpcClientConfig peerClientConfig(String clusterId, long storeId, Duration electionTimeout) {
        Duration backoffMax = electionTimeout.dividedBy(2).compareTo(Duration.ofMillis(50)) < 0
                ? Duration.ofMillis(50) : electionTimeout.dividedBy(2);
        return RpcClientConfig.peer(clusterId, storeId).withConnectionsPerEndpoint(1)
                .withReconnectBackoff(Duration.ofMillis(10), backoffMax);
    }

    /**
     * Queues a Raft message of {@code groupId} for its store; false when it cannot go now (unknown
     * store, no connection yet: a reconnect is started, or a full queue), so the sender's Raft
     * node learns the peer is unreachable.
     */
    boolean send(long groupId, Message message) {
        if (faults.shouldDrop(message)) {
            return true; // Lost on the "network": the sender cannot tell.
        }
        if (faults.delay(message, delayed -> {
            if (enqueue(groupId, delayed)) {
                flush(delayed.getTo());
            }
        })) {
            return true; // Held back by the "network"; queued later (or lost), reordered with others.
        }
        return enqueue(groupId, message);
    }

    private boolean enqueue(long groupId, Message message) {
        RpcEndpoint endpoint = endpoint(message.getTo());
        if (endpoint == null) {
            return false;
        }
        if (endpoint.openConnections() == 0) {
            endpoint.connectAll();
            return false;
        }
        boolean queued = outbox(message.getTo()).offer(GroupMessage.newBuilder().setGroupId(groupId).setRaft(message).build());
        PeerRoundTrips measure = roundTrips;
        if (queued && measure != null && message.getType() == io.loomkv.core.raft.proto.MessageType.MSG_HEARTBEAT) {
            measure.heartbeatSent(message.getTo(), System.nanoTime());
        }
        return queued;
    }

    /** Tells {@code to}'s replica of {@code groupId} that its leader went quiet; best effort. */
    void sendQuiesce(long groupId, long to, long term, long lastIndex) {
        sendNotice(to, GroupMessage.newBuilder().setGroupId(groupId)
                .setQuiesce(QuiesceNotice.newBuilder().setTerm(term).setLastIndex(lastIndex)).build());
    }

    /** Queues a wake notice to the store {@code to}, which leads {@code groupId} (see {@link WakeNotice}); best effort. */
    void sendWake(long groupId, long to) {
        sendNotice(to, GroupMessage.newBuilder().setGroupId(groupId).setWake(WakeNotice.getDefaultInstance()).build());
    }

    /** A notice beside the Raft messages: queued only while connected (never worth a connection of its own), subject to faults. */
    private void sendNotice(long to, GroupMessage notice) {
        if (faults.shouldDrop(Message.newBuilder().setTo(to).build())) {
            return;
        }
        RpcEndpoint endpoint = endpoint(to);
        if (endpoint != null && endpoint.openConnections() > 0) {
            outbox(to).offer(notice);
        }
    }

    /** Sends everything queued, one frame per store. Any thread. */
    void flush() {
        long now = System.nanoTime();
        for (PeerOutbox outbox : outboxes.values()) {
            if (!outbox.isEmpty()) {
                flush(outbox, now);
            }
        }
    }

    private void flush(long storeId) {
        PeerOutbox outbox = outboxes.get(storeId);
        if (outbox != null) {
            flush(outbox, System.nanoTime());
        }
    }

    private void flush(PeerOutbox outbox, long now) {
        RpcEndpoint endpoint = endpoint(outbox.storeId());
        if (endpoint == null) {
            return;
        }
        int dropped = outbox.flush(endpoint, now);
        if (dropped > 0) {
            LOG.debug("store {}: {} messages to store {} dropped (no connection or a full send queue)", storeId, dropped,
                    outbox.storeId());
        }
    }

    /** A store heartbeat to every peer in {@code peers} that was sent nothing for {@code quietNanos}. */
    void sendStoreHeartbeats(Iterable<Long> peers, long nowNanos, long quietNanos) {
        for (long peer : peers) {
            if (peer == storeId) {
                continue;
            }
            PeerOutbox outbox = outbox(peer);
            if (nowNanos - outbox.lastSentNanos() < quietNanos || faults.isBlocked(peer)) {
                continue;
            }
            RpcEndpoint endpoint = endpoint(peer);
            if (endpoint != null && endpoint.send(NodeMethods.STORE_HEARTBEAT, HEARTBEAT)) {
                outbox.markSent(nowNanos);
            }
        }
    }

    /** Sends this store's report to {@code peer}, a shard controller store; dropped quietly when it cannot go now. */
    void sendReport(long peer, StoreReport report) {
        if (peer == storeId || faults.isBlocked(peer)) {
            return;
        }
        RpcEndpoint endpoint = endpoint(peer);
        if (endpoint != null) {
            endpoint.send(NodeMethods.STORE_REPORT, report);
        }
    }

    /** Opens the connections to {@code peers} now, so that the first messages of a start (campaigns) need not wait for them. */
    void connect(Iterable<Long> peers) {
        for (long peer : peers) {
            RpcEndpoint endpoint = peer == storeId ? null : endpoint(peer);
            if (endpoint != null) {
                endpoint.connectAll();
            }
        }
    }

    /** A peer store connected to us: it is back, so connect to it now rather than after our backoff. */
    void peerConnected(long peer) {
        MemberAddress address = membership.get(peer);
        if (address != null) {
            client.endpoint(address.peerAddress()).resetBackoff();
        }
    }

    PeerFaults faults() {
        return faults;
    }

    /** Asks store {@code to} whether {@code groupId} removed this store; best effort. */
    void sendRemovalQuery(long groupId, long to, MemberAddress address) {
        if (address == null) {
            return;
        }
        try {
            client.endpoint(address.peerAddress()).send(NodeMethods.REMOVAL_QUERY,
                    RemovalQuery.newBuilder().setFrom(storeId).setGroupId(groupId).build());
        } catch (RuntimeException e) {
            LOG.debug("removal query to {} failed: {}", to, e.toString());
        }
    }

    /** Tells node {@code to} that {@code removal} took it out of {@code groupId}; best effort. */
    void sendRemovedNotice(long groupId, long to, MemberAddress address, RemovalNotices.Removal removal) {
        if (address == null) {
            return;
        }
        try {
            client.endpoint(address.peerAddress()).send(NodeMethods.REMOVED_NOTICE,
                    RemovedNotice.newBuilder().setNodeId(to).setFrom(storeId).setGroupId(groupId)
                            .setRemovalIndex(removal.index()).setRemovalTerm(removal.term())
                            .setRemovalEntryUnknown(!removal.byEntry()).build());
        } catch (RuntimeException e) {
            LOG.debug("removed notice to {} failed: {}", to, e.toString());
        }
    }

    private PeerOutbox outbox(long peer) {
        PeerOutbox outbox = outboxes.get(peer);
        return outbox != null ? outbox : outboxes.computeIfAbsent(peer, PeerOutbox::new);
    }

    /** The endpoint of store {@code peer}, or null when its address is unknown or the transport is closing. */
    RpcEndpoint endpoint(long peer) {
        MemberAddress address = membership.get(peer);
        if (address == null) {
            LOG.debug("store {}: no address for store {}", storeId, peer);
            return null;
        }
        try {
            return client.endpoint(address.peerAddress());
        } catch (IllegalStateException e) {
            return null; // Closing.
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
