package io.loomkv.net.node;

import io.loomkv.core.kv.KvLimits;
import io.loomkv.net.metrics.StoreMetrics;

/**
 * What every replica of a store shares: the configuration, the transport to peer stores, the
 * worker pools that run turns and apply entries, the address book and the liveness of peers.
 *
 * @param ticker the store's clock, told when a quiet replica wakes
 * @param snapshotThresholdBytes entry bytes applied since the last snapshot that call for a new one, per group
 * @param engines the groups' storage engines
 * @param metrics where the replicas record their metrics (records nothing without a metrics address)
 */
record StoreContext(
        NodeConfig config,
        KvLimits limits,
        StoreTransport transport,
        ReplicaScheduler scheduler,
        StoreTicker ticker,
        ApplyStage applyStage,
        Membership addresses,
        StoreLiveness liveness,
        long snapshotThresholdBytes,
        GroupEngines engines,
        StoreMetrics metrics) {

    long storeId() {
        return config.nodeId();
    }
}
