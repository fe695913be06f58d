package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.OneCall;
import io.loomkv.core.raft.sim.Simulator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * MIT 6.824 Raft lab 2C (persistence), ported onto the simulator. A crash loses whatever a node
 * had not persisted; a restart rebuilds it from its storage. Concurrent clients (the lab's
 * goroutines) run as tick hooks.
 */
class Lab2CPersistenceTest {

    private static final long ELECTION_TIMEOUT_MILLIS = LabHarness.ELECTION_TIMEOUT_MILLIS;

    @Test
    void Persist1(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(11, servers, true);
        // Crash and restart all.
        for (int server = 0; server < servers; server++) {
            cfg.start1(server);
        }
        for (int server = 0; server < servers; server++) {
            cfg.disconnect(server);
            cfg.connect(server);
        }
        cfg.one(12, servers, true);
        int leader1 = cfg.checkOneLeader();
        cfg.disconnect(leader1);
        cfg.start1(leader1);
        cfg.connect(leader1);
        cfg.one(13, servers, true);
        int leader2 = cfg.checkOneLeader();
        cfg.disconnect(leader2);
        long index14 = cfg.one(14, servers - 1, true);
        cfg.start1(leader2);
        cfg.connect(leader2);
        // Wait for leader2 to join before killing i3.
        cfg.wait(index14, servers, -1);
        int i3 = (cfg.checkOneLeader() + 1) % servers;
        cfg.disconnect(i3);
        cfg.one(15, servers - 1, true);
        cfg.start1(i3);
        cfg.connect(i3);
        cfg.one(16, servers, true);
    }

    @Test
    void Persist2(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 5, false, false);
        int servers = cfg.servers();
        int index = 1;
        for (int iteration = 0; iteration < 5; iteration++) {
            cfg.one(10 + index, servers, true);
            index++;
            int leader1 = cfg.checkOneLeader();
            cfg.disconnect((leader1 + 1) % servers);
            cfg.disconnect((leader1 + 2) % servers);
            cfg.one(10 + index, servers - 2, true);
            index++;
            cfg.disconnect(leader1);
            cfg.disconnect((leader1 + 3) % servers);
            cfg.disconnect((leader1 + 4) % servers);
            cfg.start1((leader1 + 1) % servers);
            cfg.start1((leader1 + 2) % servers);
            cfg.connect((leader1 + 1) % servers);
            cfg.connect((leader1 + 2) % servers);
            cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
            cfg.start1((leader1 + 3) % servers);
            cfg.connect((leader1 + 3) % servers);
            cfg.one(10 + index, servers - 2, true);
            index++;
            cfg.connect((leader1 + 4) % servers);
            cfg.connect(leader1);
        }
        cfg.one(1000, servers, true);
    }

    @Test
    void Persist3(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 3, false, false);
        int servers = cfg.servers();
        cfg.one(101, 3, true);
        int leader = cfg.checkOneLeader();
        cfg.disconnect((leader + 2) % servers);
        cfg.one(102, 2, true);
        cfg.crash1(leader);
        cfg.crash1((leader + 1) % servers);
        cfg.connect((leader + 2) % servers);
        cfg.start1(leader);
        cfg.connect(leader);
        cfg.one(103, 2, true);
        cfg.start1((leader + 1) % servers);
        cfg.connect((leader + 1) % servers);
        cfg.one(104, servers, true);
    }

    /**
     * Figure 8 of the extended Raft paper: leaders that fail quickly (often before committing) or
     * after a while, and restarts whenever fewer than a majority is up. A new leader may try to
     * finish replicating entries of earlier terms; it must not commit them by counting replicas.
     */
    @Test
    void Figure8(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 5, false, false);
        int servers = cfg.servers();
        Random random = cfg.sim().random();
        cfg.one(cfg.rand(), 1, true);
        int up = servers;
        for (int iteration = 0; iteration < 1000; iteration++) {
            int leader = -1;
            for (int server = 0; server < servers; server++) {
                if (cfg.alive(server) && cfg.start(server, cfg.rand()).isLeader()) {
                    leader = server;
                }
            }
            sleepShortOrLong(cfg, random);
            if (leader != -1) {
                cfg.crash1(leader);
                up--;
            }
            if (up < 3) {
                int server = random.nextInt(servers);
                if (!cfg.alive(server)) {
                    cfg.start1(server);
                    cfg.connect(server);
                    up++;
                }
            }
        }
        for (int server = 0; server < servers; server++) {
            if (!cfg.alive(server)) {
                cfg.start1(server);
                cfg.connect(server);
            }
        }
        cfg.one(cfg.rand(), servers, true);
    }

    /** 6.824: one time in ten sleep up to half an election timeout, else up to 13 ms. */
    private static void sleepShortOrLong(LabHarness cfg, Random random) {
        if (random.nextInt(1000) < 100) {
            cfg.sleepMillis(random.nextInt((int) (ELECTION_TIMEOUT_MILLIS / 2)));
        } else {
            cfg.sleepMillis(random.nextInt(13));
        }
    }

    @Test
    void UnreliableAgree(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 5, true, false);
        int servers = cfg.servers();
        List<OneCall> concurrent = new ArrayList<>();
        for (int iteration = 1; iteration < 50; iteration++) {
            for (int j = 0; j < 4; j++) {
                concurrent.add(cfg.oneAsync(100L * iteration + j, 1, true));
            }
            cfg.one(iteration, 1, true);
        }
        cfg.setUnreliable(false);
        if (!cfg.sim().runUntil(() -> concurrent.stream().allMatch(OneCall::done), Simulator.ticksForMillis(20_000))) {
            throw cfg.sim().fail("concurrent one() calls did not finish");
        }
        for (OneCall call : concurrent) {
            call.index();
        }
        cfg.one(100, servers, true);
    }

    @Test
    void Figure8Unreliable(TestInfo info) {
        LabHarness cfg = Scenarios.lab(info, 5, true, false);
        int servers = cfg.servers();
        Random random = cfg.sim().random();
        cfg.one(random.nextInt(10_000), 1, true);
        int up = servers;
        for (int iteration = 0; iteration < 1000; iteration++) {
            if (iteration == 200) {
                cfg.setLongReordering();
            }
            int leader = -1;
            for (int server = 0; server < servers; server++) {
                if (cfg.start(server, random.nextInt(10_000)).isLeader() && cfg.connected(server)) {
                    leader = server;
                }
            }
            sleepShortOrLong(cfg, random);
            if (leader != -1 && random.nextInt(1000) < ELECTION_TIMEOUT_MILLIS / 2) {
                cfg.disconnect(leader);
                up--;
            }
            if (up < 3) {
                int server = random.nextInt(servers);
                if (!cfg.connected(server)) {
                    cfg.connect(server);
                    up++;
                }
            }
        }
        for (int server = 0; server < servers; server++) {
            if (!cfg.connected(server)) {
                cfg.connect(server);
            }
        }
        cfg.one(random.nextInt(10_000), servers, true);
    }

    @Test
    void ReliableChurn(TestInfo info) {
        churn(Scenarios.lab(info, 5, false, false), false);
    }

    @Test
    void UnreliableChurn(TestInfo info) {
        churn(Scenarios.lab(info, 5, true, false), true);
    }

    private static void churn(LabHarness cfg, boolean unreliable) {
        int servers = cfg.servers();
        Random random = cfg.sim().random();
        List<ChurnClient> clients = new ArrayList<>();
        for (int me = 0; me < 3; me++) {
            ChurnClient client = new ChurnClient(cfg, me);
            clients.add(client);
            cfg.sim().addTickHook(client);
        }
        for (int iteration = 0; iteration < 20; iteration++) {
            if (random.nextInt(1000) < 200) {
                cfg.disconnect(random.nextInt(servers));
            }
            if (random.nextInt(1000) < 500) {
                int server = random.nextInt(servers);
                if (!cfg.alive(server)) {
                    cfg.start1(server);
                }
                cfg.connect(server);
            }
            if (random.nextInt(1000) < 200) {
                int server = random.nextInt(servers);
                if (cfg.alive(server)) {
                    cfg.crash1(server);
                }
            }
            // Crash/restart less often than an election timeout, but not hugely less often.
            cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS * 7 / 10);
        }
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        if (unreliable) {
            cfg.setUnreliable(false);
        }
        for (int server = 0; server < servers; server++) {
            if (!cfg.alive(server)) {
                cfg.start1(server);
            }
            cfg.connect(server);
        }
        List<Long> values = new ArrayList<>();
        for (ChurnClient client : clients) {
            client.stop();
        }
        if (!cfg.sim().runUntil(() -> clients.stream().allMatch(ChurnClient::stopped), Simulator.ticksForMillis(5_000))) {
            throw cfg.sim().fail("churn clients did not stop");
        }
        for (ChurnClient client : clients) {
            values.addAll(client.committedValues());
        }
        cfg.sleepMillis(ELECTION_TIMEOUT_MILLIS);
        long lastIndex = cfg.one(cfg.rand(), servers, true);
        List<Long> really = new ArrayList<>();
        for (long index = 1; index <= lastIndex; index++) {
            really.add(cfg.wait(index, servers, -1));
        }
        for (long value : values) {
            if (!really.contains(value)) {
                throw cfg.sim().fail("didn't find a value: " + value + " was reported committed but is not in the log");
            }
        }
    }
}
