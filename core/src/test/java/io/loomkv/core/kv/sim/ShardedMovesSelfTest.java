package io.loomkv.core.kv.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The sharded simulation's checks catch the bugs they are there for: with a deliberate bug in the
 * clients (writes retried under a new sequence, reads without a ReadIndex) or in the migration
 * driver (deletes before the new owner installed), one of the first seeds fails, with the failure
 * that bug causes. (The correct code passes the same seeds in {@link ShardedMovesSimulationTest}.)
 */
class ShardedMovesSelfTest {

    private static final int SEEDS = 6;
    private static final String REPLAY = "-Dtest=ShardedMovesSelfTest";

    @Test
    void aClientThatRetriesUnderANewSequenceIsCaughtWritingTwice() {
        String failure = firstFailure(ShardedFault.RETRY_WITH_NEW_SEQUENCE);
        assertTrue(failure.contains("twice"), failure);
    }

    @Test
    void aDriverThatDeletesBeforeTheNewOwnerInstalledIsCaught() {
        String failure = firstFailure(ShardedFault.DELETE_BEFORE_INSTALLED);
        assertTrue(failure.contains("did not settle") || failure.contains("missing"), failure);
    }

    @Test
    void staleReadsAreCaughtMissingAcknowledgedAppends() {
        String failure = firstFailure(ShardedFault.STALE_READS);
        assertTrue(failure.contains("missed") || failure.contains("not linearizable"), failure);
    }

    private static String firstFailure(ShardedFault fault) {
        for (long seed = 1; seed <= SEEDS; seed++) {
            try {
                ShardedKvRun.run(seed, ShardedKvRun.CHAOS_TICKS, REPLAY, false, fault);
            } catch (AssertionError e) {
                return e.getMessage();
            }
        }
        throw new AssertionError("none of seeds 1.." + SEEDS + " caught " + fault);
    }
}
