package io.loomkv.net.node;

import io.loomkv.net.metrics.StoreMetrics;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures the round trip to each peer store from Raft's own traffic, without a prober: the
 * first heartbeat queued for a peer while none is outstanding starts a measurement, and the
 * next heartbeat response from that peer ends it. With many groups the response may be another
 * group's, which arrived in the same exchange; the figure includes the peer's turn, as etcd's
 * prober includes its handler. Quiet groups send no heartbeats, so an idle store records nothing.
 */
final class PeerRoundTrips {
    private static final class Peer {
        final AtomicLong sentNanos = new AtomicLong();
        final DistributionDataPoint seconds;

        Peer(DistributionDataPoint seconds) {
            this.seconds = seconds;
        }
    }

    private final StoreMetrics metrics;
    private final ConcurrentHashMap<Long, Peer> peers = new ConcurrentHashMap<>();

    PeerRoundTrips(StoreMetrics metrics) {
        this.metrics = metrics;
    }

    /** A heartbeat to {@code peerId} was queued at {@code nowNanos}. */
    void heartbeatSent(long peerId, long nowNanos) {
        if (metrics.isEnabled()) {
            peer(peerId).sentNanos.compareAndSet(0, nowNanos == 0 ? 1 : nowNanos);
        }
    }

    /** A heartbeat response from {@code peerId} arrived at {@code nowNanos}. */
    void responseReceived(long peerId, long nowNanos) {
        if (!metrics.isEnabled()) {
            return;
        }
        Peer peer = peer(peerId);
        long sent = peer.sentNanos.getAndSet(0);
        if (sent != 0) {
            peer.seconds.observe(StoreMetrics.seconds(nowNanos - sent));
        }
    }

    private Peer peer(long peerId) {
        Peer peer = peers.get(peerId);
        return peer != null ? peer : peers.computeIfAbsent(peerId, id -> new Peer(metrics.peerRoundTrip(id)));
    }
}
