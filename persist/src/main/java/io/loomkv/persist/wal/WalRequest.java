package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.HardState;
import java.util.concurrent.CompletableFuture;

/** Work for the writer thread. */
sealed interface WalRequest {

    /**
     * Encoded records plus what the writer must remember about them: the hard state and snapshot
     * marker (rewritten at the start of every new segment, so that releasing old segments never
     * loses them), the log's last index after them (for naming the next segment) and their highest
     * entry index (for release). The writer reports durability through {@code ticket} and, for
     * {@link Wal#append}, through {@code future} as well (null for {@link Wal#submit}).
     */
    record Append(byte[] bytes, HardState hardState, SnapshotMarker marker, long lastIndexAfter, long maxEntryIndex,
                  WalTicket ticket, CompletableFuture<Long> future) implements WalRequest {

        /** Reports the append durable; returns the thread waiting on its ticket (for the caller to unpark), or null. */
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

    record Release(long index, CompletableFuture<Integer> done) implements WalRequest {
    }
}
