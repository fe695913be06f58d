package io.loomkv.net.node;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The size of each hosted group's data (keys, bytes) for the store's reports to the shard
 * controller, measured at most once per {@link #PERIOD_NANOS}: a persistent engine's size walks its
 * directory, and a store may host a thousand groups, while the reports go out every two seconds.
 * Used by the store's ticker thread only.
 */
final class GroupSizes {
    static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** One group's size: its engine's keys (approximate) and bytes (heap for memory, disk otherwise). */
    record Size(long keys, long dataBytes) {
    }

    private Map<Long, Size> sizes = Map.of();
    private long measuredNanos;
    private boolean measured;

    /** The sizes, measured again when the last measurement is older than the period. */
    Map<Long, Size> of(Iterable<Replica> replicas, long nowNanos) {
        if (!measured || nowNanos - measuredNanos >= PERIOD_NANOS) {
            Map<Long, Size> fresh = new HashMap<>();
            for (Replica replica : replicas) {
                try {
                    fresh.put(replica.groupId(), new Size(EngineSizeProbe.keys(replica.engine()), EngineSizeProbe.bytes(replica.engine())));
                } catch (RuntimeException closedOrFailed) {
                    // A replica being dropped (its engine closed) or stopped by a failure: reported without a size.
                }
            }
            sizes = fresh;
            measuredNanos = nowNanos;
            measured = true;
        }
        return sizes;
    }
}
