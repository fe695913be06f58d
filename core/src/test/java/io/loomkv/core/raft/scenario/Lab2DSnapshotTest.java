package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.sim.LabHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * MIT 6.824 Raft lab 2D (log compaction), ported onto the simulator. The simulated state machine
 * snapshots every {@value LabHarness#SNAPSHOT_INTERVAL_ENTRIES} applied entries through
 * MemoryStorage createSnapshot/compact, and the Raft state (log plus hard state) of every server
 * must stay under {@value LabHarness#MAX_LOG_SIZE_BYTES} bytes. Followers that fall behind the
 * leader's first log index catch up by chunked InstallSnapshot.
 */
class Lab2DSnapshotTest {

    @Test
    void SnapshotBasic(TestInfo info) {
        snapCommon(info, false, true, false);
    }

    @Test
    void SnapshotInstall(TestInfo info) {
        snapCommon(info, true, true, false);
    }

    @Test
    void SnapshotInstallUnreliable(TestInfo info) {
        snapCommon(info, true, false, false);
    }

    @Test
    void SnapshotInstallCrash(TestInfo info) {
        snapCommon(info, false, true, true);
    }

    @Test
    void SnapshotInstallUnCrash(TestInfo info) {
        snapCommon(info, false, false, true);
    }

    private static void snapCommon(TestInfo info, boolean disconnect, boolean reliable, boolean crash) {
        LabHarness cfg = Scenarios.lab(info, 3, !reliable, true);
        int servers = cfg.servers();
        cfg.one(cfg.rand(), servers, true);
        int leader1 = cfg.checkOneLeader();
        long largestLogSize = 0;
        for (int iteration = 0; iteration < 30; iteration++) {
            int victim = (leader1 + 1) % servers;
            int sender = leader1;
            if (iteration % 3 == 1) {
                sender = (leader1 + 1) % servers;
                victim = leader1;
            }
            if (disconnect) {
                cfg.disconnect(victim);
                cfg.one(cfg.rand(), servers - 1, true);
            }
            if (crash) {
                cfg.crash1(victim);
                cfg.one(cfg.rand(), servers - 1, true);
            }
            // Send enough to get a snapshot.
            for (int i = 0; i < LabHarness.SNAPSHOT_INTERVAL_ENTRIES + 1; i++) {
                cfg.start(sender, cfg.rand());
            }
            // Let the appliers catch up with the Start()s.
            cfg.one(cfg.rand(), servers - 1, true);
            long logSize = cfg.logSize();
            largestLogSize = Math.max(largestLogSize, logSize);
            if (logSize >= LabHarness.MAX_LOG_SIZE_BYTES) {
                throw cfg.sim().fail("Log size too large: " + logSize + " bytes >= " + LabHarness.MAX_LOG_SIZE_BYTES);
            }
            if (disconnect) {
                // Reconnect a follower, who may be behind and need a snapshot to catch up.
                cfg.connect(victim);
                cfg.one(cfg.rand(), servers, true);
                leader1 = cfg.checkOneLeader();
            }
            if (crash) {
                cfg.start1(victim);
                cfg.connect(victim);
                cfg.one(cfg.rand(), servers, true);
                leader1 = cfg.checkOneLeader();
            }
        }
        long snapshotMessages = cfg.sim().network().messagesSent(MessageType.MSG_SNAP);
        System.out.println(info.getDisplayName() + ": largest Raft state " + largestLogSize + " bytes (limit "
                + LabHarness.MAX_LOG_SIZE_BYTES + "), " + snapshotMessages + " snapshot chunks sent");
        if ((disconnect || crash) && snapshotMessages == 0) {
            throw cfg.sim().fail("followers that fell behind never needed InstallSnapshot: the scenario lost its point");
        }
    }

    @Test
    void SnapshotAllCrash(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, true);
        int servers = cfg.servers();
        cfg.one(cfg.rand(), servers, true);
        for (int iteration = 0; iteration < 5; iteration++) {
            // Perhaps enough to get a snapshot.
            int count = LabHarness.SNAPSHOT_INTERVAL_ENTRIES / 2
                    + cfg.sim().random().nextInt(LabHarness.SNAPSHOT_INTERVAL_ENTRIES);
            for (int i = 0; i < count; i++) {
                cfg.one(cfg.rand(), servers, true);
            }
            long index1 = cfg.one(cfg.rand(), servers, true);
            for (int server = 0; server < servers; server++) {
                cfg.crash1(server);
            }
            for (int server = 0; server < servers; server++) {
                cfg.start1(server);
                cfg.connect(server);
            }
            long index2 = cfg.one(cfg.rand(), servers, true);
            if (index2 < index1 + 1) {
                throw cfg.sim().fail("index decreased from " + index1 + " to " + index2);
            }
        }
    }

    /** Servers initialize their in-memory view from the snapshot, so later persists lose nothing. */
    @Test
    void SnapshotInit(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, true);
        int servers = cfg.servers();
        cfg.one(cfg.rand(), servers, true);
        // Enough ops to make a snapshot.
        for (int i = 0; i < LabHarness.SNAPSHOT_INTERVAL_ENTRIES + 1; i++) {
            cfg.one(cfg.rand(), servers, true);
        }
        crashAndReviveAll(cfg);
        // A single op, to get something written back to persistent storage.
        cfg.one(cfg.rand(), servers, true);
        crashAndReviveAll(cfg);
        // Another op to trigger a potential bug.
        cfg.one(cfg.rand(), servers, true);
    }

    private static void crashAndReviveAll(LabHarness cfg) {
        for (int server = 0; server < cfg.servers(); server++) {
            cfg.crash1(server);
        }
        for (int server = 0; server < cfg.servers(); server++) {
            cfg.start1(server);
            cfg.connect(server);
        }
    }
}
