package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.HardState;
import java.util.concurrent.CompletableFuture;

/** Work for the writer thread. */
sealed interface WalRequest {

    /** What an append does to its group's claim on old segments once it is durable. */
    enum Effect {
        NONE,
        /** A rewrite: no segment older than the one it was written to holds anything the group needs. */
        REWRITE,
        /** A drop: none of the group's records holds a segment any more. */
        DROP
    }

    /**
     * Encoded records of one group plus what the writer must remember about them: the hard state
     * and snapshot marker (rewritten at the start of every new segment, so that deleting old
     * segments never loses them), the group's last index after them, how many records they are
     * (segment names count records), whether they must be forced before they are reported
     * ({@code mustSync}; otherwise they are reported once written, and the next force makes them
     * durable anyway), and whether they add, reset or rewrite entries (so the segment holds them
     * until the group releases). The writer reports through {@code ticket} and, for
     * {@link Wal#append}, through {@code future} as well (null for {@link Wal#submit}).
     */
    record Append(byte[] bytes, WalGroup group, HardState hardState, SnapshotMarker marker, long lastIndexAfter, int recordCount,
                  boolean mustSync, boolean entryBearing, Effect effect, WalTicket ticket, CompletableFuture<Long> future)
            implements WalRequest {

        /** Reports the append complete; returns the thread waiting on its ticket (for the caller to unpark), or null. */
        Thread completeDurable() {
            Thread waiter = ticket.markDurable();
            if (future != null) {
                future.complete(lastIndexAfter);
            }
            return waiter;
        }

        void completeFailed(Throwable error) {
            ticket.markFailed(error);
            if (future != null) {
                future.completeExceptionally(error);
            }
        }
    }

    /** The group's entries at or below {@code index} are covered by a snapshot; completes with the number of segments deleted. */
    record Release(WalGroup group, long index, CompletableFuture<Integer> done) implements WalRequest {
    }
}
