package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * MIT 6.824 Raft lab 2B (log agreement), ported onto the simulator with the lab's limits: RPCBytes'
 * byte budget and Count's RPC budgets.
 *
 * <p>One systematic difference: our leader appends a no-op entry when elected (so that it can
 * commit entries of earlier terms), which 6.824's reference solution does not. Where 6.824
 * expects a command at a fixed index (1, 2, 4, ...), these ports expect it at the next free index
 * after everything already committed, which is what the fixed numbers meant there.
 */
class Lab2BAgreementTest {

    private static final long ELECTION_TIMEOUT_MILLIS = LabHarness.ELECTION_TIMEOUT_MILLIS;

    @Test
    void BasicAgree(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.checkOneLeader();
        cfg.sleepMillis(50);
        for (int iteration = 1; iteration <= 3; iteration++) {
            long expected = cfg.sim().highestAppliedIndex() + 1;
            if (cfg.nCommitted(expected).nodes() > 0) {
                throw cfg.sim().fail("some have committed before Start()");
            }
            long index = cfg.one(iteration * 100L, servers, false);
            if (index != expected) {
                throw cfg.sim().fail("got index " + index + " but expected " + expected);
            }
        }
    }

    /** Each command is sent to each peer just once: counted in bytes of requests. */
    @Test
    void RPCBytes(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(99, servers, false);
        long bytes0 = cfg.bytesTotal();
        long sent = 0;
        long previousIndex = cfg.sim().highestAppliedIndex();
        for (int iteration = 0; iteration < 10; iteration++) {
            int commandBytes = 5000;
            long index = cfg.one(cfg.rand(), commandBytes, servers, false);
            if (index != previousIndex + 1) {
                throw cfg.sim().fail("got index " + index + " but expected " + (previousIndex + 1));
            }
            previousIndex = index;
            sent += commandBytes;
        }
        long got = cfg.bytesTotal() - bytes0;
        long expected = servers * sent;
        if (got > expected + 50_000) {
            throw cfg.sim().fail("too many RPC bytes; got " + got + ", expected " + expected);
        }
        System.out.println("RPCBytes: " + got + " request bytes for " + sent + " command bytes (limit " + (expected + 50_000) + ")");
    }

    @Test
    void FollowerFailure(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(101, servers, false);
        // Disconnect one follower; the leader and the other follower still agree.
        int leader1 = cfg.checkOneLeader();
        cfg.disconnect((leader1 + 1) % servers);
        cfg.one(102, servers - 1, false);
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        cfg.one(103, servers - 1, false);
        // Disconnect the remaining follower.
        int leader2 = cfg.checkOneLeader();
        cfg.disconnect((leader2 + 1) % servers);
        cfg.disconnect((leader2 + 2) % servers);
        long expected = cfg.sim().highestAppliedIndex() + 1;
        Simulator.Start start = cfg.start(leader2, 104);
        if (!start.isLeader()) {
            throw cfg.sim().fail("leader rejected Start()");
        }
        if (start.index() != expected) {
            throw cfg.sim().fail("expected index " + expected + ", got " + start.index());
        }
        cfg.sleepMillis(2 * ELECTION_TIMEOUT_MILLIS);
        int committed = cfg.nCommitted(start.index()).nodes();
        if (committed > 0) {
            throw cfg.sim().fail(committed + " committed but no majority");
        }
    }

    @Test
    void LeaderFailure(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(101, servers, false);
        // Disconnect the first leader; the remaining followers elect a new one.
        int leader1 = cfg.checkOneLeader();
        cfg.disconnect(leader1);
        cfg.one(102, servers - 1, false);
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        cfg.one(103, servers - 1, false);
        // Disconnect the new leader, then submit a command to each server.
        int leader2 = cfg.checkOneLeader();
        cfg.disconnect(leader2);
        long next = cfg.sim().highestAppliedIndex() + 1;
        for (int server = 0; server < servers; server++) {
            cfg.start(server, 104);
        }
        cfg.sleepMillis(2 * ELECTION_TIMEOUT_MILLIS);
        int committed = cfg.nCommitted(next).nodes();
        if (committed > 0) {
            throw cfg.sim().fail(committed + " committed index " + next + " but no majority");
        }
    }

    @Test
    void FailAgree(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(101, servers, false);
        int leader = cfg.checkOneLeader();
        cfg.disconnect((leader + 1) % servers);
        cfg.one(102, servers - 1, false);
        cfg.one(103, servers - 1, false);
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        cfg.one(104, servers - 1, false);
        cfg.one(105, servers - 1, false);
        cfg.connect((leader + 1) % servers);
        // The full set preserves previous agreements and agrees on new commands.
        cfg.one(106, servers, true);
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        cfg.one(107, servers, true);
    }

    @Test
    void FailNoAgree(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 5, false, false);
        int servers = cfg.servers();
        cfg.one(10, servers, false);
        // 3 of 5 followers disconnect.
        int leader = cfg.checkOneLeader();
        cfg.disconnect((leader + 1) % servers);
        cfg.disconnect((leader + 2) % servers);
        cfg.disconnect((leader + 3) % servers);
        long base = cfg.sim().highestAppliedIndex();
        Simulator.Start start = cfg.start(leader, 20);
        if (!start.isLeader()) {
            throw cfg.sim().fail("leader rejected Start()");
        }
        if (start.index() != base + 1) {
            throw cfg.sim().fail("expected index " + (base + 1) + ", got " + start.index());
        }
        cfg.sleepMillis(2 * ELECTION_TIMEOUT_MILLIS);
        int committed = cfg.nCommitted(start.index()).nodes();
        if (committed > 0) {
            throw cfg.sim().fail(committed + " committed but no majority");
        }
        cfg.connect((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.connect((leader + 3) % servers);
        // The disconnected majority may have chosen a leader from their own ranks, forgetting
        // index base + 1; either way the new leader's no-op comes first.
        int leader2 = cfg.checkOneLeader();
        Simulator.Start start2 = cfg.start(leader2, 30);
        if (!start2.isLeader()) {
            throw cfg.sim().fail("leader2 rejected Start()");
        }
        if (start2.index() < base + 2 || start2.index() > base + 3) {
            throw cfg.sim().fail("unexpected index " + start2.index() + " (base " + base + ")");
        }
        cfg.one(1000, servers, true);
    }

    @Test
    void ConcurrentStarts(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        boolean success = false;
        attempts:
        for (int attempt = 0; attempt < 5; attempt++) {
            if (attempt > 0) {
                cfg.sleepMillis(3_000);
            }
            int leader = cfg.checkOneLeader();
            Simulator.Start first = cfg.start(leader, 1);
            if (!first.isLeader()) {
                continue;
            }
            // Five Start()s issued together, before any simulated time passes.
            List<Long> indexes = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Simulator.Start start = cfg.start(leader, 100 + i);
                if (start.isLeader() && start.term() == first.term()) {
                    indexes.add(start.index());
                }
            }
            for (int server = 0; server < servers; server++) {
                if (cfg.term(server) != first.term()) {
                    continue attempts;
                }
            }
            List<Long> values = new ArrayList<>();
            for (long index : indexes) {
                long value = cfg.wait(index, servers, first.term());
                if (value == -1) {
                    continue attempts;
                }
                values.add(value);
            }
            for (int i = 0; i < 5; i++) {
                if (!values.contains(100L + i)) {
                    throw cfg.sim().fail("cmd " + (100 + i) + " missing in " + values);
                }
            }
            success = true;
            break;
        }
        if (!success) {
            throw cfg.sim().fail("term changed too often");
        }
    }

    @Test
    void Rejoin(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(101, servers, true);
        // Leader network failure; the old leader tries to agree on some entries.
        int leader1 = cfg.checkOneLeader();
        cfg.disconnect(leader1);
        cfg.start(leader1, 102);
        cfg.start(leader1, 103);
        cfg.start(leader1, 104);
        // The new leader commits, also at the index the old leader used.
        cfg.one(103, 2, true);
        // New leader network failure; old leader connected again.
        int leader2 = cfg.checkOneLeader();
        cfg.disconnect(leader2);
        cfg.connect(leader1);
        cfg.one(104, 2, true);
        // All together now.
        cfg.connect(leader2);
        cfg.one(105, servers, true);
    }

    @Test
    void Backup(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 5, false, false);
        int servers = cfg.servers();
        cfg.one(cfg.rand(), servers, true);
        // Put the leader and one follower in a partition.
        int leader1 = cfg.checkOneLeader();
        cfg.disconnect((leader1 + 2) % servers);
        cfg.disconnect((leader1 + 3) % servers);
        cfg.disconnect((leader1 + 4) % servers);
        // Lots of commands that won't commit.
        for (int i = 0; i < 50; i++) {
            cfg.start(leader1, cfg.rand());
        }
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS / 2);
        cfg.disconnect(leader1);
        cfg.disconnect((leader1 + 1) % servers);
        // Allow the other partition to recover.
        cfg.connect((leader1 + 2) % servers);
        cfg.connect((leader1 + 3) % servers);
        cfg.connect((leader1 + 4) % servers);
        // Lots of successful commands to the new group.
        for (int i = 0; i < 50; i++) {
            cfg.one(cfg.rand(), 3, true);
        }
        // Now another partitioned leader and one follower.
        int leader2 = cfg.checkOneLeader();
        int other = (leader1 + 2) % servers;
        if (leader2 == other) {
            other = (leader2 + 1) % servers;
        }
        cfg.disconnect(other);
        // Lots more commands that won't commit.
        for (int i = 0; i < 50; i++) {
            cfg.start(leader2, cfg.rand());
        }
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS / 2);
        // Bring the original leader back to life.
        for (int server = 0; server < servers; server++) {
            cfg.disconnect(server);
        }
        cfg.connect(leader1);
        cfg.connect((leader1 + 1) % servers);
        cfg.connect(other);
        // Lots of successful commands to the new group.
        for (int i = 0; i < 50; i++) {
            cfg.one(cfg.rand(), 3, true);
        }
        // Now everyone.
        for (int server = 0; server < servers; server++) {
            cfg.connect(server);
        }
        cfg.one(cfg.rand(), servers, true);
    }

    /** RPC counts stay low: at most 30 to elect, (10 + 1 + 3) * 3 for 10 entries, 3 * 20 per idle second. */
    @Test
    void Count(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.checkOneLeader();
        long total1 = cfg.rpcTotal();
        if (total1 > 30 || total1 < 1) {
            throw cfg.sim().fail("too many or few RPCs (" + total1 + ") to elect initial leader");
        }
        long electionRpcs = total1;
        long agreementRpcs = -1;
        long total2 = 0;
        boolean success = false;
        attempts:
        for (int attempt = 0; attempt < 5; attempt++) {
            if (attempt > 0) {
                cfg.sleepMillis(3_000);
            }
            int leader = cfg.checkOneLeader();
            total1 = cfg.rpcTotal();
            int iterations = 10;
            Simulator.Start first = cfg.start(leader, 1);
            if (!first.isLeader()) {
                continue;
            }
            List<Long> commands = new ArrayList<>();
            for (int i = 1; i < iterations + 2; i++) {
                long command = cfg.rand();
                commands.add(command);
                Simulator.Start start = cfg.start(leader, command);
                if (!start.isLeader() || start.term() != first.term()) {
                    continue attempts;
                }
                if (first.index() + i != start.index()) {
                    throw cfg.sim().fail("Start() failed: index " + start.index() + ", expected " + (first.index() + i));
                }
            }
            for (int i = 1; i < iterations + 1; i++) {
                long value = cfg.wait(first.index() + i, servers, first.term());
                if (value == -1) {
                    continue attempts;
                }
                if (value != commands.get(i - 1)) {
                    throw cfg.sim().fail("wrong value " + value + " committed for index " + (first.index() + i)
                            + "; expected " + commands);
                }
            }
            boolean termChanged = false;
            for (int server = 0; server < servers; server++) {
                if (cfg.term(server) != first.term()) {
                    termChanged = true;
                }
            }
            total2 = cfg.rpcTotal();
            if (termChanged) {
                continue;
            }
            if (total2 - total1 > (iterations + 1 + 3) * 3) {
                throw cfg.sim().fail("too many RPCs (" + (total2 - total1) + ") for " + iterations + " entries");
            }
            agreementRpcs = total2 - total1;
            success = true;
            break;
        }
        if (!success) {
            throw cfg.sim().fail("term changed too often");
        }
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        long total3 = cfg.rpcTotal();
        if (total3 - total2 > 3 * 20) {
            throw cfg.sim().fail("too many RPCs (" + (total3 - total2) + ") for 1 second of idleness");
        }
        System.out.println("Count: " + electionRpcs + " RPCs to elect (limit 30), " + agreementRpcs
                + " for 10 entries (limit 42), " + (total3 - total2) + " per idle second (limit 60)");
    }
}
