package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The entry bytes a store's groups may apply between snapshots, together: 256 MiB, bounded by an
 * eighth of the heap (the logs stay in memory until their snapshots; 16 groups under a load of 4
 * KB records ran a 512 MB heap out of memory with the fixed 256 MiB), and the most their logs may
 * hold before client writes wait.
 */
class SnapshotBudgetTest {

    @Test
    void theBudgetIsAnEighthOfTheHeapAtMost256MiB() {
        assertEquals(64L << 20, Store.snapshotBudgetBytes(512L << 20), "the launcher's 512 MB heap");
        assertEquals(256L << 20, Store.snapshotBudgetBytes(2L << 30));
        assertEquals(256L << 20, Store.snapshotBudgetBytes(64L << 30), "never more than 256 MiB");
        assertEquals(4L << 20, Store.snapshotBudgetBytes(16L << 20), "never below one group's minimum threshold");
    }

    /** Client writes wait (UNAVAILABLE, retried) while the logs in memory pass twice the budget. */
    @Test
    void theLogsInMemoryMayReachTwiceTheBudget() {
        assertEquals(128L << 20, Store.logBytesLimit(512L << 20));
        assertEquals(512L << 20, Store.logBytesLimit(64L << 30));
    }
}
