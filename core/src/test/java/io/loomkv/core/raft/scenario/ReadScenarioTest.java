package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.Simulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Linearizable reads in the simulator. The simulator checks every confirmed read against every
 * index committed before the read was issued; these scenarios put a deposed leader in the way.
 */
class ReadScenarioTest {

    private static void staleLeaderRead(TestInfo info, SimOptions options) {
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, options));
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int oldLeader = cfg.checkOneLeader();
        long before = sim.readsConfirmed();
        long context = sim.readIndex(oldLeader + 1);
        if (context < 0) {
            throw sim.fail("the leader refused a read");
        }
        sim.runUntil(() -> sim.readsConfirmed() > before, Simulator.ticksForMillis(1_000));
        if (sim.readsConfirmed() == before) {
            throw sim.fail("a healthy leader did not confirm a read within 1 s");
        }
        // Depose the leader; the others elect a new one and commit writes it does not know about.
        cfg.disconnect(oldLeader);
        for (int i = 0; i < 5; i++) {
            cfg.one(10 + i, 2, true);
        }
        // Reads at the old leader must not be confirmed below those writes (checked by the simulator).
        long confirmedBefore = sim.readsConfirmed();
        for (int i = 0; i < 10; i++) {
            sim.readIndex(oldLeader + 1);
            sim.runMillis(100);
        }
        if (!options.leaseReads() && sim.readsConfirmed() != confirmedBefore) {
            throw sim.fail("a leader without a quorum confirmed a ReadIndex read");
        }
        cfg.connect(oldLeader);
        cfg.one(20, 3, true);
        int leader = cfg.checkOneLeader();
        long reads = sim.readsConfirmed();
        sim.readIndex(leader + 1);
        if (!sim.runUntil(() -> sim.readsConfirmed() > reads, Simulator.ticksForMillis(1_000))) {
            throw sim.fail("the new leader did not confirm a read within 1 s");
        }
    }

    @Test
    void staleLeaderReadIndex(TestInfo info) {
        staleLeaderRead(info, SimOptions.of(3, Scenarios.seed(info)).withCheckQuorum(false));
    }

    @Test
    void staleLeaderLeaseRead(TestInfo info) {
        staleLeaderRead(info, SimOptions.of(3, Scenarios.seed(info)).withLeaseReads(true));
    }

    /**
     * A leader frozen (a long pause of its store) and cut off while the others elect a new leader
     * and commit writes; a lease read queued at it meanwhile is taken by its first turn after the
     * pause. That turn steps the time that passed before its inputs (the replica driver's ticks
     * first), so the lease has run out and the read is not served at the stale commit index (the
     * simulator checks every confirmed read against the writes committed before it was issued).
     */
    @Test
    void frozenLeaderLeaseRead(TestInfo info) {
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, SimOptions.of(3, Scenarios.seed(info)).withLeaseReads(true)));
        Simulator sim = cfg.sim();
        cfg.one(1, 3, false);
        int frozen = cfg.checkOneLeader();
        sim.pause(frozen + 1, Simulator.ticksForMillis(60_000));
        cfg.disconnect(frozen);
        for (int i = 0; i < 5; i++) {
            cfg.one(10 + i, 2, true);
        }
        long confirmedBefore = sim.readsConfirmed();
        if (sim.readIndex(frozen + 1) < 0) {
            throw sim.fail("the frozen store should queue the read, not refuse it");
        }
        sim.resume(frozen + 1);
        sim.runMillis(200);
        if (sim.readsConfirmed() != confirmedBefore) {
            throw sim.fail("the leader confirmed a read after a freeze longer than its lease, cut off from its followers");
        }
        cfg.connect(frozen);
        cfg.one(20, 3, true);
    }

    /** Reads at followers are forwarded and confirmed too, under an unreliable network. */
    @Test
    void followerReadsUnderUnreliableNetwork(TestInfo info) {
        LabHarness cfg = new LabHarness(Scenarios.simulator(info, SimOptions.of(5, Scenarios.seed(info))));
        Simulator sim = cfg.sim();
        cfg.setUnreliable(true);
        for (int i = 0; i < 30; i++) {
            cfg.one(i, 1, true);
            sim.readIndex(1 + sim.random().nextInt(5));
        }
        cfg.setUnreliable(false);
        sim.runMillis(1_000);
        if (sim.readsConfirmed() == 0) {
            throw sim.fail("no read was confirmed");
        }
    }
}
