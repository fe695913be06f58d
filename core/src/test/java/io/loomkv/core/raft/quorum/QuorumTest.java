package io.loomkv.core.raft.quorum;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuorumTest {

    private static MajorityConfig of(Long... ids) {
        return new MajorityConfig(List.of(ids));
    }

    @Test
    void majorityCommittedIndexIsWhatAQuorumAcknowledged() {
        MajorityConfig c = of(1L, 2L, 3L);
        Map<Long, Long> acked = Map.of(1L, 10L, 2L, 7L, 3L, 3L);
        assertEquals(7, c.committedIndex(id -> acked.getOrDefault(id, 0L)));
        MajorityConfig five = of(1L, 2L, 3L, 4L, 5L);
        Map<Long, Long> acked5 = Map.of(1L, 9L, 2L, 8L, 3L, 2L, 4L, 1L);
        assertEquals(2, five.committedIndex(id -> acked5.getOrDefault(id, 0L)));
        assertEquals(Long.MAX_VALUE, MajorityConfig.empty().committedIndex(id -> 0));
    }

    @Test
    void evenSizedConfigNeedsMoreThanHalf() {
        MajorityConfig c = of(1L, 2L, 3L, 4L);
        Map<Long, Long> acked = Map.of(1L, 10L, 2L, 10L, 3L, 5L, 4L, 1L);
        assertEquals(5, c.committedIndex(id -> acked.getOrDefault(id, 0L)));
        assertEquals(VoteResult.PENDING, c.voteResult(Map.of(1L, true, 2L, true)));
        assertEquals(VoteResult.WON, c.voteResult(Map.of(1L, true, 2L, true, 3L, true)));
        assertEquals(VoteResult.LOST, c.voteResult(Map.of(1L, false, 2L, false)));
    }

    @Test
    void jointConfigTakesTheMinimumAndNeedsBothHalves() {
        JointConfig j = new JointConfig(of(1L, 2L, 3L), of(3L, 4L, 5L));
        Map<Long, Long> acked = Map.of(1L, 9L, 2L, 9L, 3L, 4L, 4L, 2L, 5L, 1L);
        assertEquals(2, j.committedIndex(id -> acked.getOrDefault(id, 0L)));
        assertEquals(VoteResult.PENDING, j.voteResult(Map.of(1L, true, 2L, true)));
        assertEquals(VoteResult.WON, j.voteResult(Map.of(1L, true, 2L, true, 4L, true, 5L, true)));
        assertEquals(VoteResult.LOST, j.voteResult(Map.of(1L, true, 2L, true, 4L, false, 5L, false)));
        JointConfig notJoint = new JointConfig(of(1L, 2L, 3L), MajorityConfig.empty());
        assertEquals(VoteResult.WON, notJoint.voteResult(Map.of(1L, true, 3L, true)));
    }
}
