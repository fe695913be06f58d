package io.loomkv.core.raft.sim;

/**
 * One simulated cluster's shape. Times are in ticks; {@link Simulator#MILLIS_PER_TICK} maps them
 * to simulated time.
 *
 * @param nodeCount nodes {@code 1..nodeCount}
 * @param voterCount nodes {@code 1..voterCount} are the initial voters; the others start outside
 *     the configuration (knowing it) and can be added as learners or voters later
 * @param groups Raft groups {@code 1..groups}: every simulated node is a store hosting one replica
 *     of each (Raft node id = store id in every group), over one WAL shared by the store's groups;
 *     faults and crashes hit a store, so every group on it at once
 * @param seed the seed of the run's single source of randomness
 * @param electionTimeoutTicks base election timeout; Raft randomizes it in {@code [base, 2 * base)}
 * @param heartbeatIntervalTicks ticks between a leader's heartbeats
 * @param preVote whether nodes run a pre-vote before a real election
 * @param checkQuorum whether a leader steps down when it has not heard from a quorum for an
 *     election timeout (and followers ignore votes while they hear from a leader)
 * @param snapshotIntervalEntries the state machine snapshots and compacts the log every this
 *     many applied entries (6.824's SnapShotInterval); 0 for never
 * @param crashDuringReadyPerMille when a randomized run crashes a store, the probability that it
 *     arms a {@link CrashPoint} instead, which crashes the store inside one of its replicas' next
 *     Readies (0 in the 6.824 scenarios)
 * @param leaseReads serve reads from a leader lease (requires checkQuorum) instead of a
 *     heartbeat round; the lease is two thirds of the election timeout
 * @param slowClockSkipEveryTicks clock drift: node 1 misses one tick in every this many (0 for
 *     none), so its timers run slow relative to the others' (a lease must stay safe under it)
 * @param maxPersistDelayTicks each fsync of a store's WAL takes a random 0..this many ticks; at
 *     most one is in flight per store, and what is written meanwhile waits for the next one;
 *     meanwhile the replicas keep receiving messages and ticks, and a crash loses what no
 *     completed fsync covered (but for a random prefix of what the fsync in flight was writing);
 *     0 makes every write durable at once
 * @param trace print every event to standard output (the surefire output file)
 * @param runtimeFault a deliberate bug in the simulated runtime, used only to prove that the
 *     checks catch what such a bug breaks; {@link RuntimeFault#NONE} everywhere else
 */
public record SimOptions(
        int nodeCount,
        int voterCount,
        int groups,
        long seed,
        int electionTimeoutTicks,
        int heartbeatIntervalTicks,
        boolean preVote,
        boolean checkQuorum,
        int snapshotIntervalEntries,
        int crashDuringReadyPerMille,
        boolean leaseReads,
        int slowClockSkipEveryTicks,
        int maxPersistDelayTicks,
        boolean trace,
        RuntimeFault runtimeFault) {

    /** Deliberate runtime bugs for the simulator's self-test. */
    public enum RuntimeFault {
        NONE,
        /** A restarted node has lost its vote (not its term), so it may vote twice in one term. */
        FORGET_VOTE_ON_CRASH,
        /**
         * The runtime's fsync lies: a crash loses the entries of the node's last append although
         * it acknowledged them, so a quorum may have counted entries that are gone.
         */
        LOSE_LAST_APPEND_ON_CRASH,
        /**
         * The runtime reports a write durable as soon as it is written, before an fsync covers it,
         * so replicas acknowledge entries and votes that a crash of their store loses.
         */
        DURABLE_BEFORE_FSYNC
    }

    /** A bound on the groups of one simulation (each adds a replica, its ticks and its messages to every store). */
    public static final int MAX_GROUPS = 16;

    /** 150 ms base election timeout: elections finish well within 6.824's 1 s. */
    public static final int DEFAULT_ELECTION_TIMEOUT_TICKS = 15;

    /** 50 ms heartbeats: 20 per second per follower, within Count's 60 RPCs per idle second for 3 nodes. */
    public static final int DEFAULT_HEARTBEAT_INTERVAL_TICKS = 5;

    public SimOptions {
        if (nodeCount < 1 || nodeCount > 15) {
            throw new IllegalArgumentException("nodeCount must be in [1, 15], got " + nodeCount);
        }
        if (groups < 1 || groups > MAX_GROUPS) {
            throw new IllegalArgumentException("groups must be in [1, " + MAX_GROUPS + "], got " + groups);
        }
        if (runtimeFault == null) {
            throw new IllegalArgumentException("runtimeFault must be non-null (use NONE)");
        }
        if (maxPersistDelayTicks < 0) {
            throw new IllegalArgumentException("maxPersistDelayTicks must be >= 0, got " + maxPersistDelayTicks);
        }
        if (slowClockSkipEveryTicks != 0 && slowClockSkipEveryTicks < 2) {
            throw new IllegalArgumentException("slowClockSkipEveryTicks must be 0 or >= 2, got " + slowClockSkipEveryTicks);
        }
        if (leaseReads && !checkQuorum) {
            throw new IllegalArgumentException("lease reads need checkQuorum");
        }
        if (voterCount < 1 || voterCount > nodeCount) {
            throw new IllegalArgumentException("voterCount must be in [1, nodeCount=" + nodeCount + "], got " + voterCount);
        }
        if (heartbeatIntervalTicks < 1 || electionTimeoutTicks <= heartbeatIntervalTicks) {
            throw new IllegalArgumentException("need 1 <= heartbeatIntervalTicks < electionTimeoutTicks, got "
                    + heartbeatIntervalTicks + ", " + electionTimeoutTicks);
        }
        if (snapshotIntervalEntries < 0) {
            throw new IllegalArgumentException("snapshotIntervalEntries must be >= 0, got " + snapshotIntervalEntries);
        }
        if (crashDuringReadyPerMille < 0 || crashDuringReadyPerMille > 1000) {
            throw new IllegalArgumentException("crashDuringReadyPerMille must be in [0, 1000], got "
                    + crashDuringReadyPerMille);
        }
    }

    /** The defaults used by the 6.824 scenarios: PreVote and CheckQuorum on, no snapshots. */
    public static SimOptions of(int nodeCount, long seed) {
        return new SimOptions(nodeCount, nodeCount, 1, seed, DEFAULT_ELECTION_TIMEOUT_TICKS, DEFAULT_HEARTBEAT_INTERVAL_TICKS,
                true, true, 0, 0, false, 0, 0, SimProperties.trace(), RuntimeFault.NONE);
    }

    public SimOptions withVoterCount(int voters) {
        return new SimOptions(nodeCount, voters, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                snapshotIntervalEntries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withSnapshotIntervalEntries(int entries) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                entries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withPreVote(boolean enabled) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, enabled, checkQuorum,
                snapshotIntervalEntries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withCheckQuorum(boolean enabled) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, enabled,
                snapshotIntervalEntries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withLeaseReads(boolean enabled) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                snapshotIntervalEntries, crashDuringReadyPerMille, enabled, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withRuntimeFault(RuntimeFault fault) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                snapshotIntervalEntries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, fault);
    }

    public SimOptions withCrashDuringReadyPerMille(int perMille) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                snapshotIntervalEntries, perMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withGroups(int count) {
        return new SimOptions(nodeCount, voterCount, count, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                snapshotIntervalEntries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace, runtimeFault);
    }

    public SimOptions withMaxPersistDelayTicks(int ticks) {
        return new SimOptions(nodeCount, voterCount, groups, seed, electionTimeoutTicks, heartbeatIntervalTicks, preVote, checkQuorum,
                snapshotIntervalEntries, crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, ticks, trace, runtimeFault);
    }
}
