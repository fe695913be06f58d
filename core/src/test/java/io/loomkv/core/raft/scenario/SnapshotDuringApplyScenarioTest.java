package io.loomkv.core.raft.scenario;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.Ready;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.raft.sim.ConfChanges;
import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.SimNode;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.Simulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * A snapshot that arrives while the runtime is still applying committed entries handed out
 * earlier (its persist is in flight). Found by randomized seed 39911 (generation 3, persists in
 * flight) on raft commit c2700df: node 4 had been handed the committed "leave joint" entry, then
 * installed a snapshot taken after the joint config was left, and applying the entry threw
 * "can't leave a non-joint config". Later core changes altered that seed's schedule, so this
 * scenario places the same events deterministically: the follower's persist is stalled while it
 * holds the committed leave-joint entry, and the leader's snapshot (taken after leaving) is
 * delivered at that moment, exactly as the leader would send it.
 */
class SnapshotDuringApplyScenarioTest {

    private static boolean holdsLeaveJoint(Ready ready) {
        for (Entry entry : ready.committedEntries()) {
            if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                try {
                    if (ConfChange.parseFrom(entry.getData()).getChangesCount() == 0) {
                        return true;
                    }
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException("conf change entry " + entry.getIndex() + " does not parse", e);
                }
            }
        }
        return false;
    }

    @Test
    void snapshotArrivesWhileLeaveJointIsBeingApplied(TestInfo info) {
        SimOptions options = SimOptions.of(4, Scenarios.seed(info)).withVoterCount(3);
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, options));
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader() + 1;
        int follower = leader % 3 + 1;
        int removed = follower % 3 + 1;
        SimNode followerNode = sim.node(follower);
        followerNode.holdReadyWhen(SnapshotDuringApplyScenarioTest::holdsLeaveJoint);
        if (!sim.proposeConfChange(leader, ConfChanges.replace(4, removed))) {
            throw sim.fail("leader " + leader + " refused the replacement");
        }
        if (!sim.runUntil(followerNode::holdingReady, Simulator.ticksForMillis(2_000))) {
            throw sim.fail("follower " + follower + " never got the committed leave-joint entry");
        }
        // The new config {leader, follower, 4} commits more without the stalled follower, which
        // hears nothing of it (else it would hold the snapshot's entries and not need it).
        sim.network().cut(leader, follower);
        for (int i = 0; i < 5; i++) {
            cfg.one(10 + i, 2, true);
        }
        SimNode leaderNode = sim.node(leader);
        leaderNode.snapshotNow();
        SnapshotMetadata snapshot = leaderNode.storage().snapshotMetadata();
        if (snapshot.getConfState().getVotersOutgoingCount() != 0) {
            throw sim.fail("the leader's snapshot should be taken after leaving the joint config: " + snapshot);
        }
        sim.deliverNow(Message.newBuilder()
                .setType(MessageType.MSG_SNAP).setFrom(leader).setTo(follower).setTerm(cfg.term(leader - 1))
                .setSnapshot(snapshot).setSnapshotOffset(0)
                .setSnapshotChunk(leaderNode.storage().readSnapshotChunk(snapshot, 0, Integer.MAX_VALUE))
                .setSnapshotDone(true)
                .build());
        // The stalled persist finishes: the runtime applies what it was handed before the snapshot.
        followerNode.releaseHeldReady();
        sim.network().heal();
        long index = cfg.one(99, 3, true);
        if (!sim.runUntil(() -> followerNode.appliedIndex() >= index, Simulator.ticksForMillis(5_000))) {
            throw sim.fail("follower " + follower + " did not catch up: applied " + followerNode.appliedIndex());
        }
    }

    private static boolean holdsEnterJointOnly(Ready ready) {
        boolean enter = false;
        for (Entry entry : ready.committedEntries()) {
            if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                try {
                    int changes = ConfChange.parseFrom(entry.getData()).getChangesCount();
                    if (changes == 0) {
                        return false;
                    }
                    enter |= changes > 1;
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException("conf change entry " + entry.getIndex() + " does not parse", e);
                }
            }
        }
        return enter;
    }

    /**
     * The same race with a runtime that snapshots after every applied entry, and a crash before
     * the installed snapshot is persisted: the follower restarts from its own snapshot of the
     * entries it applied meanwhile, which must carry the membership of that index, not of the
     * newer snapshot.
     */
    @Test
    void snapshotArrivesWhileEnterJointIsBeingAppliedThenCrash(TestInfo info) {
        SimOptions options = SimOptions.of(4, Scenarios.seed(info)).withVoterCount(3).withSnapshotIntervalEntries(1);
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, options));
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int leader = cfg.checkOneLeader() + 1;
        int follower = leader % 3 + 1;
        int removed = follower % 3 + 1;
        SimNode followerNode = sim.node(follower);
        followerNode.holdReadyWhen(SnapshotDuringApplyScenarioTest::holdsEnterJointOnly);
        if (!sim.proposeConfChange(leader, ConfChanges.replace(4, removed))) {
            throw sim.fail("leader " + leader + " refused the replacement");
        }
        if (!sim.runUntil(followerNode::holdingReady, Simulator.ticksForMillis(2_000))) {
            throw sim.fail("follower " + follower + " never got the committed enter-joint entry alone");
        }
        sim.network().cut(leader, follower);
        for (int i = 0; i < 5; i++) {
            cfg.one(10 + i, 2, true);
        }
        SimNode leaderNode = sim.node(leader);
        SnapshotMetadata snapshot = leaderNode.storage().snapshotMetadata();
        if (snapshot.getConfState().getVotersOutgoingCount() != 0) {
            throw sim.fail("the leader's snapshot should be taken after leaving the joint config: " + snapshot);
        }
        sim.deliverNow(Message.newBuilder()
                .setType(MessageType.MSG_SNAP).setFrom(leader).setTo(follower).setTerm(cfg.term(leader - 1))
                .setSnapshot(snapshot).setSnapshotOffset(0)
                .setSnapshotChunk(leaderNode.storage().readSnapshotChunk(snapshot, 0, Integer.MAX_VALUE))
                .setSnapshotDone(true)
                .build());
        // The stalled persist finishes and the runtime snapshots what it applied; it crashes
        // before persisting the next Ready (which would install the leader's snapshot).
        followerNode.armCrash(SimNode.CrashPoint.BEFORE_PERSIST);
        followerNode.releaseHeldReady();
        sim.network().heal();
        if (sim.alive(follower)) {
            sim.crash(follower);
        }
        sim.restart(follower);
        sim.connect(follower);
        long index = cfg.one(99, 3, true);
        if (!sim.runUntil(() -> followerNode.appliedIndex() >= index, Simulator.ticksForMillis(5_000))) {
            throw sim.fail("follower " + follower + " did not catch up: applied " + followerNode.appliedIndex());
        }
    }
}
