package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.raft.StoreLog;
import io.loomkv.persist.wal.PinningGroup;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the shared WAL's disk use bounded when some groups are slow: a group with little traffic
 * keeps its entries in old segments long after busier groups have snapshotted theirs, and one WAL
 * shared by every group cannot delete a segment while any group needs it (raft-engine's purge
 * meets the same problem). When the WAL holds more segments than its bound, the groups holding
 * the oldest ones are relieved, each in the cheapest way that works:
 *
 * <ol>
 *   <li>its snapshot already covers what is pinned: it gives up the fallback log behind it
 *       ({@link GroupStorage#releaseWalTo});
 *   <li>what is pinned is applied: it takes a snapshot now, below its thresholds (released on a
 *       later round);
 *   <li>otherwise (a follower whose pinned entries are not yet committed or applied): its
 *       retained log is written again into the current segment ({@link GroupStorage#rewrite}).
 * </ol>
 *
 * Runs off the ticker on its own virtual thread (releases and rewrites wait for a WAL force), one
 * round at a time.
 */
final class WalPinRelief {
    private static final Logger LOG = LoggerFactory.getLogger(WalPinRelief.class);

    /** What relief needs of a group's replica. */
    interface PinnedReplica {
        long appliedIndex();

        /** Take a snapshot at the next chance, below the usual thresholds. */
        void requestSnapshot();
    }

    private final long storeId;
    private final StoreLog log;
    private final LongFunction<PinnedReplica> replicas;
    private final AtomicBoolean running = new AtomicBoolean();

    WalPinRelief(long storeId, StoreLog log, LongFunction<PinnedReplica> replicas) {
        this.storeId = storeId;
        this.log = log;
        this.replicas = replicas;
    }

    /** Starts a round unless one is still going; returns at once. */
    void maybeRun() {
        List<PinningGroup> pinning = log.pinningGroups();
        if (pinning.isEmpty() || !running.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("wal-pin-relief-" + storeId).start(LogContext.inheritNode(() -> {
            try {
                relieve(pinning);
            } finally {
                running.set(false);
            }
        }));
    }

    /** One round on the calling thread (tests). */
    void relieveNow() {
        relieve(log.pinningGroups());
    }

    private void relieve(List<PinningGroup> pinning) {
        for (PinningGroup pin : pinning) {
            PinnedReplica replica = replicas.apply(pin.groupId());
            GroupStorage storage = log.groups().get(pin.groupId());
            if (replica == null || storage == null) {
                continue;
            }
            try {
                relieve(pin, replica, storage);
            } catch (IOException | RuntimeException e) {
                LOG.warn("store {} group {}: could not free {} WAL segments: {}", storeId, pin.groupId(),
                        pin.pinnedSegments(), e.toString());
            }
        }
    }

    private void relieve(PinningGroup pin, PinnedReplica replica, GroupStorage storage) throws IOException {
        long needed = pin.releaseIndexNeeded();
        if (storage.snapshotMetadata().getIndex() >= needed) {
            int deleted = storage.releaseWalTo(needed);
            LOG.info("store {} group {}: released its log to {} for the WAL ({} segments deleted)", storeId,
                    pin.groupId(), needed, deleted);
        } else if (replica.appliedIndex() >= needed) {
            replica.requestSnapshot();
            LOG.info("store {} group {}: snapshot asked for, so that {} old WAL segments can go", storeId, pin.groupId(),
                    pin.pinnedSegments());
        } else {
            try {
                long last = storage.rewrite();
                LOG.info("store {} group {}: rewrote its log (to {}) so that {} old WAL segments can go", storeId,
                        pin.groupId(), last, pin.pinnedSegments());
            } catch (IllegalArgumentException tooLarge) {
                // Its log is too large for one append: only a snapshot can free it, once applied.
                replica.requestSnapshot();
                LOG.warn("store {} group {}: log too large to rewrite ({}); waiting for it to apply and snapshot",
                        storeId, pin.groupId(), tooLarge.getMessage());
            }
        }
    }
}
