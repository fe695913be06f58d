package io.loomkv.net.metrics;

import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.net.rpc.TrafficObserver;
import io.loomkv.persist.wal.WalObserver;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * A store's metrics, named after etcd's under a {@code loomkv_} prefix (see docs/operations.md
 * for the list). Each store has its own {@link PrometheusRegistry} (tests run several stores in
 * one JVM, so the library's static default registry would mix them up).
 *
 * <p>Recording is lock-free and allocation-free: every data point a hot path records into is
 * created once here (labelled ones too: {@link #requestDuration} is an array lookup, never a
 * {@code labelValues()} call per request), and the library's counters and classic histograms
 * are built on striped adders. Histograms are classic only (no native buckets) and keep no
 * exemplars, the cheapest the library offers.
 *
 * <p>{@link #disabled()} (no {@code metrics-address}) hands out data points that record nothing
 * and registers nothing, so a store without metrics pays an empty call per event.
 */
public final class StoreMetrics {
    /** WAL fsync buckets: 10 us doubling to about 1.3 s (our fdatasync takes ~150 us; etcd's buckets start at 1 ms). */
    static final double[] FSYNC_BUCKETS_SECONDS = exponential(10e-6, 18);
    /** Request and peer round-trip buckets: 50 us doubling to about 13 s. */
    static final double[] LATENCY_BUCKETS_SECONDS = exponential(50e-6, 19);
    /** Snapshot save and apply buckets: 1 ms doubling to about 65 s. */
    static final double[] SNAPSHOT_BUCKETS_SECONDS = exponential(1e-3, 17);
    /** An fsync or an apply batch longer than this counts as slow (etcd warns about applies past 100 ms). */
    public static final long SLOW_NANOS = 100_000_000L;

    private static final double NANOS_PER_SECOND = 1e9;
    private static final KvRequest.OpCase[] OPERATIONS = KvRequest.OpCase.values();

    private final PrometheusRegistry registry;
    private final CounterDataPoint proposalsCommitted;
    private final CounterDataPoint proposalsApplied;
    private final CounterDataPoint proposalsFailed;
    private final CounterDataPoint slowApplies;
    private final CounterDataPoint keysExpired;
    private final CounterDataPoint raftTurns;
    private final CounterDataPoint raftPasses;
    private final DistributionDataPoint fsyncSeconds;
    private final CounterDataPoint walWrittenBytes;
    private final CounterDataPoint slowFsyncs;
    private final DistributionDataPoint snapshotSaveSeconds;
    private final DistributionDataPoint snapshotApplySeconds;
    private final DistributionDataPoint checkpointSaveSeconds;
    private final DistributionDataPoint[] requestSeconds = new DistributionDataPoint[OPERATIONS.length];
    private final TrafficObserver clientTraffic;
    private final TrafficObserver peerTraffic;
    private final Histogram peerRoundTrip;
    private final ConcurrentHashMap<Long, DistributionDataPoint> peerRoundTripByPeer = new ConcurrentHashMap<>();
    private final WalObserver walObserver;

    private StoreMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        this.proposalsCommitted = counter("loomkv_server_proposals_committed_total",
                "Raft entries committed and handed to the state machines (all groups of this store)");
        this.proposalsApplied = counter("loomkv_server_proposals_applied_total",
                "Raft entries applied to the state machines (all groups of this store)");
        this.proposalsFailed = counter("loomkv_server_proposals_failed_total",
                "proposed entries whose requests got no outcome: lost in a leader change or covered by a snapshot");
        this.slowApplies = counter("loomkv_server_slow_apply_total",
                "batches of committed entries whose apply took longer than 100 ms");
        this.keysExpired = counter("loomkv_server_keys_expired_total",
                "keys deleted by active expiry through the log, counted by the store that proposed the deletion");
        this.raftTurns = counter("loomkv_raft_worker_turns_total",
                "turns the Raft workers ran (one replica's ticks, messages, requests and Ready each)");
        this.raftPasses = counter("loomkv_raft_worker_passes_total",
                "passes of a Raft worker over the replicas with work, each ending in one flush of the peer transport");
        this.walWrittenBytes = counter("loomkv_disk_wal_write_bytes_total", "bytes written to the WAL's segments");
        this.slowFsyncs = counter("loomkv_disk_wal_slow_fsync_total", "WAL fsyncs that took longer than 100 ms");
        this.fsyncSeconds = histogram("loomkv_disk_wal_fsync_duration_seconds",
                "latency of the WAL's fdatasync calls", FSYNC_BUCKETS_SECONDS);
        this.snapshotSaveSeconds = histogram("loomkv_disk_snapshot_save_duration_seconds",
                "time to write a group's snapshot to disk", SNAPSHOT_BUCKETS_SECONDS);
        this.checkpointSaveSeconds = histogram("loomkv_disk_checkpoint_save_duration_seconds",
                "time to sync a group's persistent engine and record a checkpoint (a compaction point without a snapshot file)",
                FSYNC_BUCKETS_SECONDS);
        this.snapshotApplySeconds = histogram("loomkv_disk_snapshot_apply_duration_seconds",
                "time to restore a state machine from a snapshot received from the leader", SNAPSHOT_BUCKETS_SECONDS);
        Histogram requests = registry == null ? null : Histogram.builder().name("loomkv_server_request_duration_seconds")
                .help("time from a KV request's arrival to its reply, by operation (requests that reached a replica)")
                .labelNames("operation").classicOnly().classicUpperBounds(LATENCY_BUCKETS_SECONDS).withoutExemplars()
                .register(registry);
        for (KvRequest.OpCase op : OPERATIONS) {
            requestSeconds[op.ordinal()] = requests == null || op == KvRequest.OpCase.OP_NOT_SET ? NoopDataPoints.DISTRIBUTION
                    : requests.labelValues(op.name().toLowerCase(Locale.ROOT));
        }
        this.peerRoundTrip = registry == null ? null : Histogram.builder().name("loomkv_network_peer_round_trip_time_seconds")
                .help("time from a Raft heartbeat to a peer store until its response, by peer store id")
                .labelNames("to").classicOnly().classicUpperBounds(LATENCY_BUCKETS_SECONDS).withoutExemplars()
                .register(registry);
        this.clientTraffic = traffic("loomkv_network_client_received_bytes_total", "loomkv_network_client_sent_bytes_total",
                "client connections");
        this.peerTraffic = traffic("loomkv_network_peer_received_bytes_total", "loomkv_network_peer_sent_bytes_total",
                "peer connections (Raft traffic, both those this store opened and those it accepted)");
        this.walObserver = registry == null ? WalObserver.NONE : new WalObserver() {
            @Override
            public void forced(long durationNanos) {
                fsyncSeconds.observe(durationNanos / NANOS_PER_SECOND);
                if (durationNanos > SLOW_NANOS) {
                    slowFsyncs.inc();
                }
            }

            @Override
            public void written(long bytes) {
                walWrittenBytes.inc(bytes);
            }
        };
        if (registry != null) {
            JvmMetrics.builder().register(registry);
        }
    }

    /** Metrics that record nothing (no {@code metrics-address}). */
    public static StoreMetrics disabled() {
        return new StoreMetrics(null);
    }

    /** Metrics recorded into a registry of their own, with the JVM's metrics beside them. */
    public static StoreMetrics enabled() {
        return new StoreMetrics(new PrometheusRegistry());
    }

    public boolean isEnabled() {
        return registry != null;
    }

    /** The registry to serve; only when {@link #isEnabled()}. */
    public PrometheusRegistry registry() {
        if (registry == null) {
            throw new IllegalStateException("metrics are disabled (no metrics-address)");
        }
        return registry;
    }

    /** Registers a gauge read at scrape time (nothing when disabled). */
    public void gauge(String name, String help, DoubleSupplier value) {
        if (registry != null) {
            GaugeWithCallback.builder().name(name).help(help).callback(callback -> callback.call(value.getAsDouble()))
                    .register(registry);
        }
    }

    public CounterDataPoint proposalsCommitted() {
        return proposalsCommitted;
    }

    public CounterDataPoint proposalsApplied() {
        return proposalsApplied;
    }

    public CounterDataPoint proposalsFailed() {
        return proposalsFailed;
    }

    public CounterDataPoint keysExpired() {
        return keysExpired;
    }

    public CounterDataPoint raftTurns() {
        return raftTurns;
    }

    public CounterDataPoint raftPasses() {
        return raftPasses;
    }

    public CounterDataPoint slowApplies() {
        return slowApplies;
    }

    public DistributionDataPoint snapshotSaveSeconds() {
        return snapshotSaveSeconds;
    }

    public DistributionDataPoint checkpointSaveSeconds() {
        return checkpointSaveSeconds;
    }

    public DistributionDataPoint snapshotApplySeconds() {
        return snapshotApplySeconds;
    }

    /** The request latency histogram of one operation; cached, so a request costs an array lookup. */
    public DistributionDataPoint requestDuration(KvRequest.OpCase operation) {
        return requestSeconds[operation.ordinal()];
    }

    /** The round-trip histogram towards peer store {@code peerId}; created on first use, then cached. */
    public DistributionDataPoint peerRoundTrip(long peerId) {
        if (peerRoundTrip == null) {
            return NoopDataPoints.DISTRIBUTION;
        }
        DistributionDataPoint point = peerRoundTripByPeer.get(peerId);
        return point != null ? point
                : peerRoundTripByPeer.computeIfAbsent(peerId, id -> peerRoundTrip.labelValues(Long.toString(id)));
    }

    public WalObserver walObserver() {
        return walObserver;
    }

    public TrafficObserver clientTraffic() {
        return clientTraffic;
    }

    public TrafficObserver peerTraffic() {
        return peerTraffic;
    }

    /** Nanoseconds as the seconds Prometheus wants. */
    public static double seconds(long nanos) {
        return nanos / NANOS_PER_SECOND;
    }

    private CounterDataPoint counter(String name, String help) {
        return registry == null ? NoopDataPoints.COUNTER : Counter.builder().name(name).help(help).withoutExemplars().register(registry);
    }

    private DistributionDataPoint histogram(String name, String help, double[] bucketsSeconds) {
        return registry == null ? NoopDataPoints.DISTRIBUTION : Histogram.builder().name(name).help(help).classicOnly()
                .classicUpperBounds(bucketsSeconds).withoutExemplars().register(registry);
    }

    private TrafficObserver traffic(String receivedName, String sentName, String what) {
        if (registry == null) {
            return TrafficObserver.NONE;
        }
        CounterDataPoint received = counter(receivedName, "bytes received on " + what);
        CounterDataPoint sent = counter(sentName, "bytes sent on " + what);
        return TrafficObserver.of(received::inc, sent::inc);
    }

    private static double[] exponential(double startSeconds, int count) {
        double[] bounds = new double[count];
        for (int i = 0; i < count; i++) {
            bounds[i] = startSeconds * Math.pow(2, i);
        }
        return bounds;
    }
}
