package io.loomkv.core.raft.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * MIT 6.824's Raft tester ({@code config.go}) on top of the {@link Simulator}: the same helper
 * operations with the same budgets, in simulated time, so its scenarios port line by line.
 * Servers are numbered {@code 0..n-1} as in 6.824 and map to node ids {@code 1..n}.
 *
 * <p>One deliberate difference: {@link #checkOneLeader()} demands a leader within 1 s of simulated
 * time (6.824's RaftElectionTimeout) from the moment it is asked, rather than 6.824's ten polls
 * spread over about five seconds.
 */
public final class LabHarness {

    /** 6.824's RaftElectionTimeout: 1 s. */
    public static final long ELECTION_TIMEOUT_MILLIS = 1_000;

    /** 6.824's SnapShotInterval: the service snapshots every 10 applied entries. */
    public static final int SNAPSHOT_INTERVAL_ENTRIES = 10;

    /** 6.824's MAXLOGSIZE: the Raft state (log and hard state) must stay below 2000 bytes with snapshots. */
    public static final long MAX_LOG_SIZE_BYTES = 2_000;

    private final Simulator sim;
    private final int servers;

    public LabHarness(Simulator sim) {
        this.sim = sim;
        this.servers = sim.nodeCount();
    }

    public Simulator sim() {
        return sim;
    }

    public int servers() {
        return servers;
    }

    private static int node(int server) {
        return server + 1;
    }

    public long rand() {
        return sim.random().nextInt(Integer.MAX_VALUE);
    }

    public void sleepMillis(long millis) {
        sim.runMillis(millis);
    }

    public void disconnect(int server) {
        sim.disconnect(node(server));
    }

    public void connect(int server) {
        sim.connect(node(server));
    }

    public boolean connected(int server) {
        return sim.network().isConnected(node(server));
    }

    public void crash1(int server) {
        sim.crash(node(server));
    }

    public void start1(int server) {
        sim.restart(node(server));
    }

    public boolean alive(int server) {
        return sim.alive(node(server));
    }

    public void setUnreliable(boolean unreliable) {
        sim.network().setFaults(unreliable ? NetworkFaults.UNRELIABLE : NetworkFaults.RELIABLE);
    }

    public void setLongReordering() {
        sim.network().setFaults(NetworkFaults.UNRELIABLE_LONG_REORDER);
    }

    /** 6.824's {@code Start(cmd)} on a server. */
    public Simulator.Start start(int server, long command) {
        return sim.start(node(server), command);
    }

    public Simulator.Start start(int server, long command, int paddingBytes) {
        return sim.start(node(server), command, paddingBytes);
    }

    public long term(int server) {
        return sim.term(node(server));
    }

    public boolean isLeader(int server) {
        return sim.isLeader(node(server));
    }

    /**
     * A leader among the connected servers within 1 s of simulated time; the one with the highest
     * term if several think they lead (stale leaders of older terms); fails otherwise.
     */
    public int checkOneLeader() {
        long budgetTicks = Simulator.ticksForMillis(ELECTION_TIMEOUT_MILLIS);
        int[] found = {-1};
        sim.runUntil(() -> {
            found[0] = connectedLeaderWithHighestTerm();
            return found[0] >= 0;
        }, budgetTicks);
        if (found[0] < 0) {
            throw sim.fail("expected one leader within " + ELECTION_TIMEOUT_MILLIS + " ms, got none");
        }
        return found[0];
    }

    private int connectedLeaderWithHighestTerm() {
        int leader = -1;
        long leaderTerm = -1;
        for (int server = 0; server < servers; server++) {
            if (connected(server) && isLeader(server)) {
                long term = term(server);
                if (term == leaderTerm) {
                    throw sim.fail("term " + term + " has two leaders: servers " + leader + " and " + server);
                }
                if (term > leaderTerm) {
                    leader = server;
                    leaderTerm = term;
                }
            }
        }
        return leader;
    }

    /** All connected servers agree on the term; returns it. */
    public long checkTerms() {
        long term = -1;
        for (int server = 0; server < servers; server++) {
            if (connected(server) && alive(server)) {
                long mine = term(server);
                if (term == -1) {
                    term = mine;
                } else if (term != mine) {
                    throw sim.fail("servers disagree on term: " + term + " vs " + mine + " (server " + server + ")");
                }
            }
        }
        return term;
    }

    public void checkNoLeader() {
        for (int server = 0; server < servers; server++) {
            if (connected(server) && isLeader(server)) {
                throw sim.fail("expected no leader among connected servers, but server " + server + " claims to be leader");
            }
        }
    }

    /** 6.824's {@code nCommitted(index)}: how many servers applied it, and the value there. */
    public Simulator.Committed nCommitted(long index) {
        return sim.committedAt(index);
    }

    /**
     * 6.824's {@code one(cmd, expectedServers, retry)}: submits {@code command} to a leader and
     * waits up to 2 s for {@code expectedServers} to apply it, retrying (if asked) for up to 10 s.
     *
     * @return the index it was committed at
     */
    public long one(long command, int expectedServers, boolean retry) {
        return one(command, 0, expectedServers, retry);
    }

    /** {@link #one(long, int, boolean)} with a command padded to {@code paddingBytes} extra bytes. */
    public long one(long command, int paddingBytes, int expectedServers, boolean retry) {
        long deadline = sim.nowTick() + Simulator.ticksForMillis(10_000);
        int starts = 0;
        while (sim.nowTick() < deadline) {
            long index = -1;
            for (int tries = 0; tries < servers; tries++) {
                starts = (starts + 1) % servers;
                if (connected(starts) && alive(starts)) {
                    Simulator.Start result = start(starts, command, paddingBytes);
                    if (result.isLeader()) {
                        index = result.index();
                        break;
                    }
                }
            }
            if (index != -1) {
                long agreedIndex = index;
                boolean[] agreed = {false};
                sim.runUntil(() -> {
                    Simulator.Committed committed = nCommitted(agreedIndex);
                    agreed[0] = committed.nodes() > 0 && committed.nodes() >= expectedServers
                            && committed.command() != null && committed.command().value() == command;
                    return agreed[0];
                }, Simulator.ticksForMillis(2_000));
                if (agreed[0]) {
                    return index;
                }
                if (!retry) {
                    throw sim.fail("one(" + command + ") failed to reach agreement on " + expectedServers + " servers");
                }
            } else {
                sim.runMillis(50);
            }
        }
        throw sim.fail("one(" + command + ") failed to reach agreement on " + expectedServers + " servers in 10 s");
    }

    /** Starts {@link #one(long, int, boolean)} as a concurrent client (a goroutine in 6.824). */
    public OneCall oneAsync(long command, int expectedServers, boolean retry) {
        OneCall call = new OneCall(this, command, expectedServers, retry);
        sim.addTickHook(call);
        return call;
    }

    /**
     * 6.824's {@code wait(index, n, startTerm)}: waits (about 25 s at most) for {@code n} servers to
     * apply {@code index}; returns -1 early if some server moved past {@code startTerm} (when >= 0).
     */
    public long wait(long index, int n, long startTerm) {
        long waitMillis = 10;
        for (int iteration = 0; iteration < 30; iteration++) {
            if (nCommitted(index).nodes() >= n) {
                break;
            }
            sleepMillis(waitMillis);
            if (waitMillis < 1_000) {
                waitMillis *= 2;
            }
            if (startTerm > -1) {
                for (int server = 0; server < servers; server++) {
                    if (alive(server) && term(server) > startTerm) {
                        return -1;
                    }
                }
            }
        }
        Simulator.Committed committed = nCommitted(index);
        if (committed.nodes() < n) {
            throw sim.fail("only " + committed.nodes() + " decided for index " + index + "; wanted " + n);
        }
        return committed.command() == null ? 0 : committed.command().value();
    }

    /** 6.824's {@code rpcCount(server)}: requests delivered to it (a request and its reply are one RPC). */
    public long rpcCount(int server) {
        return sim.network().requestsDeliveredTo(node(server));
    }

    public long rpcTotal() {
        long total = 0;
        for (int server = 0; server < servers; server++) {
            total += rpcCount(server);
        }
        return total;
    }

    /** 6.824's {@code bytesTotal()}: bytes of all requests sent. */
    public long bytesTotal() {
        return sim.network().requestBytesSent();
    }

    /** 6.824's {@code LogSize()}: the largest Raft state (log plus hard state, without snapshot) of any server. */
    public long logSize() {
        long largest = 0;
        for (int server = 0; server < servers; server++) {
            largest = Math.max(largest, sim.node(node(server)).raftStateSizeBytes());
        }
        return largest;
    }

    /** Servers in {@code 0..n-1} order that are connected. */
    public List<Integer> connectedServers() {
        List<Integer> result = new ArrayList<>();
        for (int server = 0; server < servers; server++) {
            if (connected(server)) {
                result.add(server);
            }
        }
        return result;
    }
}
