package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.metrics.StoreMetrics;
import io.loomkv.persist.raft.StoreLog;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import java.util.function.ToDoubleFunction;

/**
 * The metrics read from the replicas' published state at scrape time, so recording them costs
 * the hot paths nothing. Label policy: two series per hosted group ({@code has_leader} and
 * {@code leader_changes_seen_total}, labelled {@code group}), which is what an operator needs to
 * find a leaderless or flapping group; a store hosts at most a few thousand groups, so this stays
 * bounded by the layout. Everything else is one series per store, summed over its groups.
 */
final class StoreGauges {
    private StoreGauges() {
    }

    static void register(StoreMetrics metrics, Iterable<Replica> replicas, StoreLog log,
            java.util.function.Supplier<SlotLayout> layout) {
        if (!metrics.isEnabled()) {
            return;
        }
        var registry = metrics.registry();
        GaugeWithCallback.builder().name("loomkv_server_has_leader")
                .help("1 when this store's replica of the group knows a leader, else 0").labelNames("group")
                .callback(callback -> {
                    for (Replica replica : replicas) {
                        callback.call(replica.state().leaderId() != 0 ? 1 : 0, Long.toString(replica.groupId()));
                    }
                }).register(registry);
        CounterWithCallback.builder().name("loomkv_server_leader_changes_seen_total")
                .help("times this store's replica of the group saw a new leader").labelNames("group")
                .callback(callback -> {
                    for (Replica replica : replicas) {
                        callback.call(replica.state().leaderChanges(), Long.toString(replica.groupId()));
                    }
                }).register(registry);
        metrics.gauge("loomkv_server_groups", "groups this store hosts a replica of", () -> sum(replicas, r -> 1));
        metrics.gauge("loomkv_server_groups_without_leader", "hosted groups whose replica here knows no leader",
                () -> sum(replicas, r -> r.state().leaderId() == 0 ? 1 : 0));
        metrics.gauge("loomkv_server_is_leader_groups", "hosted groups whose leader is this store",
                () -> sum(replicas, r -> r.state().isLeader() ? 1 : 0));
        metrics.gauge("loomkv_server_failed_groups", "hosted groups whose replica stopped after a failure",
                () -> sum(replicas, r -> r.state().failure() != null ? 1 : 0));
        metrics.gauge("loomkv_server_proposals_pending", "proposed entries whose requests wait for them to apply",
                () -> sum(replicas, Replica::pendingProposals));
        metrics.gauge("loomkv_server_layout_version", "version of the slot layout this store routes by",
                () -> layout.get().version());
        metrics.gauge("loomkv_engine_keys", "keys in the state machines of the groups hosted here (approximate)",
                () -> sum(replicas, r -> EngineSizeProbe.keys(r.engine())));
        metrics.gauge("loomkv_engine_size_bytes", "bytes of keys and values in those state machines (approximate)",
                () -> sum(replicas, r -> EngineSizeProbe.bytes(r.engine())));
        metrics.gauge("loomkv_raft_log_memory_bytes", "bytes of log entries the groups hold in memory (since their snapshots)",
                log::entryBytesInMemory);
        metrics.gauge("loomkv_disk_wal_segments", "WAL segments on disk", log::walSegmentCount);
        metrics.gauge("loomkv_disk_wal_size_bytes", "bytes the WAL's segments take on disk (preallocated)",
                log::walSegmentBytes);
    }

    private static double sum(Iterable<Replica> replicas, ToDoubleFunction<Replica> value) {
        double total = 0;
        for (Replica replica : replicas) {
            total += value.applyAsDouble(replica);
        }
        return total;
    }
}
