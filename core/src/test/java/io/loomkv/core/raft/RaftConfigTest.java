package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RaftConfigTest {

    private static void rejects(RaftConfig.Builder b, String expectedInMessage) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
    }

    @Test
    void defaultsAreValid() {
        RaftConfig c = RaftConfig.builder(1).build();
        assertEquals(1, c.id());
        assertTrue(c.electionTimeoutTicks() > c.heartbeatTicks());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void zeroIdIsRejected() {
        rejects(RaftConfig.builder(0), "id must be positive");
    }

    @Test
    void heartbeatNotBelowElectionTimeoutIsRejected() {
        rejects(RaftConfig.builder(1).electionTimeoutTicks(5).heartbeatTicks(5), "must be greater than heartbeatTicks");
        rejects(RaftConfig.builder(1).heartbeatTicks(0), "heartbeatTicks must be positive");
    }

    @Test
    void leaseWithoutCheckQuorumIsRejected() {
        rejects(RaftConfig.builder(1).checkQuorum(false).leaseReads(3), "require checkQuorum");
    }

    @Test
    void leaseNotShorterThanElectionTimeoutIsRejected() {
        rejects(RaftConfig.builder(1).checkQuorum(true).electionTimeoutTicks(10).leaseReads(10), "shorter than electionTimeoutTicks");
        rejects(RaftConfig.builder(1).checkQuorum(true).leaseReads(0), "must be positive");
        rejects(RaftConfig.builder(1).leaseTicks(3), "only meaningful with LEASE_BASED");
    }

    @Test
    void nonPositiveLimitsAreRejected() {
        rejects(RaftConfig.builder(1).maxEntriesPerAppend(0), "maxEntriesPerAppend");
        rejects(RaftConfig.builder(1).maxInflightAppends(-1), "maxInflightAppends");
        rejects(RaftConfig.builder(1).maxSnapshotChunkBytes(0), "maxSnapshotChunkBytes");
        rejects(RaftConfig.builder(1).maxPendingReads(0), "maxPendingReads");
        rejects(RaftConfig.builder(1).appliedIndex(-1), "appliedIndex");
    }
}
