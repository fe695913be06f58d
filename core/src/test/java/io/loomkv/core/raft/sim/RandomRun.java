package io.loomkv.core.raft.sim;

import com.google.protobuf.TextFormat;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One randomized simulation: a short stretch of simulated time under a random mix of faults
 * (message loss, duplication, delay and reordering, partitions, one-way cuts, disconnections,
 * store crashes, including crashes in the middle of a Ready and while an fsync is in flight,
 * store pauses), client proposals, membership changes (learners, promotions, removals including
 * of the leader, joint replacements), leadership transfers and linearizable reads (ReadIndex or
 * lease, checked against every index committed before the read was issued), spread over the
 * run's groups, with every safety invariant checked after every step; then everything heals and
 * every group must converge: a leader commits a final proposal and every member applies it.
 *
 * <p>The cluster shape comes from a {@link Random} seeded with the seed; the simulator's own
 * Random is seeded with it too, so the seed alone reproduces the run.
 */
public final class RandomRun {

    /** 3 s of simulated chaos per seed keeps 2,000 seeds within the default test budget. */
    public static final int CHAOS_TICKS = 300;

    /** After healing, the cluster gets 20 s of simulated time to converge. */
    public static final long CONVERGE_TICKS = Simulator.ticksForMillis(20_000);

    private static final NetworkFaults HEAVY = new NetworkFaults(300, 300, 50, 0, 6, 100, 10, 60);
    private static final List<NetworkFaults> PROFILES = List.of(
            NetworkFaults.RELIABLE, NetworkFaults.UNRELIABLE, NetworkFaults.UNRELIABLE_LONG_REORDER, HEAVY);

    private final Simulator sim;
    private final Random random;
    private long proposalsAccepted;
    private long confChangesAccepted;
    private long transfers;
    private long readsIssued;

    private final int generation;

    private RandomRun(Simulator sim, int generation) {
        this.sim = sim;
        this.generation = generation;
        this.random = sim.random();
    }

    /**
     * The generation of the workload generator. A seed reproduces a run only together with the
     * generator that made it, so changing what a run does means adding a generation, never
     * editing one: regression seeds keep naming the generation they failed under. (Every
     * generation runs on the current simulated runtime: the server's replica driver over a
     * store's shared simulated WAL.)
     * <ul>
     *   <li>1: faults, crashes, proposals, membership changes, transfers;
     *   <li>2: as 1, plus linearizable reads (ReadIndex or leases) and a node with a slow clock;
     *   <li>3: as 2, plus persists that take 0-3 ticks while the node keeps running (on half the seeds);
     *   <li>4: as 3, plus 1-4 groups per store with every action aimed at a random group, fsyncs of
     *       0-4 ticks on three seeds in four, crashes before persisting entries, and store pauses.
     * </ul>
     */
    public static final int LATEST_GENERATION = 4;

    /** The options a seed gets: 3 or 5 voters, sometimes spare stores, snapshots, mid-Ready crashes, groups. */
    public static SimOptions optionsFor(long seed, boolean trace) {
        return optionsFor(seed, trace, LATEST_GENERATION);
    }

    public static SimOptions optionsFor(long seed, boolean trace, int generation) {
        if (generation < 1 || generation > LATEST_GENERATION) {
            throw new IllegalArgumentException("generation must be in [1, " + LATEST_GENERATION + "], got " + generation);
        }
        Random shape = new Random(seed);
        int voters = shape.nextBoolean() ? 3 : 5;
        int spares = shape.nextInt(3);
        int snapshotInterval = switch (shape.nextInt(3)) {
            case 0 -> 0;
            case 1 -> 5;
            default -> 20;
        };
        boolean preVote = shape.nextInt(4) != 0;
        boolean checkQuorum = shape.nextInt(4) != 0;
        int crashDuringReadyPerMille = shape.nextInt(500);
        boolean leaseReads = generation >= 2 && checkQuorum && shape.nextBoolean();
        // Up to 12.5% slow: within what the lease (two thirds of the election timeout) allows for.
        int slowClockSkipEveryTicks = generation >= 2 && shape.nextBoolean() ? 8 + shape.nextInt(13) : 0;
        int maxPersistDelayTicks;
        int groups = 1;
        if (generation >= 4) {
            maxPersistDelayTicks = shape.nextInt(4) != 0 ? 1 + shape.nextInt(4) : 0;
            groups = 1 + shape.nextInt(4);
        } else {
            maxPersistDelayTicks = generation >= 3 && shape.nextBoolean() ? 1 + shape.nextInt(3) : 0;
        }
        return new SimOptions(voters + spares, voters, groups, seed, SimOptions.DEFAULT_ELECTION_TIMEOUT_TICKS,
                SimOptions.DEFAULT_HEARTBEAT_INTERVAL_TICKS, preVote, checkQuorum, snapshotInterval,
                crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace,
                SimOptions.RuntimeFault.NONE);
    }

    /**
     * Runs one seed ({@link SimProperties#chaosTicks()} ticks of chaos); throws an AssertionError
     * naming the seed if an invariant or convergence fails.
     */
    public static Summary run(long seed, String replayHint, boolean trace) {
        return run(optionsFor(seed, trace), LATEST_GENERATION, SimProperties.chaosTicks(), replayHint);
    }

    /** Runs {@code seed} as generation {@code generation} of the generator made it. */
    public static Summary run(long seed, int generation, String replayHint, boolean trace) {
        return run(optionsFor(seed, trace, generation), generation, SimProperties.chaosTicks(), replayHint);
    }

    /** Runs {@code seed} as generation {@code generation} made it, with {@code chaosTicks} ticks of chaos. */
    public static Summary run(long seed, int generation, int chaosTicks, String replayHint, boolean trace) {
        return run(optionsFor(seed, trace, generation), generation, chaosTicks, replayHint);
    }

    /** Runs with the given options (the self-test injects runtime bugs through them). */
    public static Summary run(SimOptions options, String replayHint) {
        return run(options, LATEST_GENERATION, SimProperties.chaosTicks(), replayHint);
    }

    private static Summary run(SimOptions options, int generation, int chaosTicks, String replayHint) {
        if (chaosTicks < 1) {
            throw new IllegalArgumentException("chaosTicks must be >= 1, got " + chaosTicks);
        }
        // A seed replays only with the chaos it ran: say so in the replay command of any failure.
        String hint = chaosTicks == CHAOS_TICKS ? replayHint : replayHint + " -Dloomkv.sim.chaosTicks=" + chaosTicks;
        Simulator sim = new Simulator(options, hint);
        RandomRun run = new RandomRun(sim, generation);
        run.chaos(chaosTicks);
        run.healAndConverge();
        SimStats stats = sim.stats();
        return new Summary(options.seed(), options.groups(), sim.nowTick(), stats.steps(), run.proposalsAccepted,
                run.confChangesAccepted, run.transfers, stats.crashes(), stats.crashesDuringFsync(), stats.pauses(),
                run.readsIssued, sim.readsConfirmed(), stats.earlyMessages() + stats.earlyReads(),
                stats.appliedAheadOfPersist());
    }

    /**
     * What a run did, for the test's report.
     *
     * @param earlyOutput messages sent and reads confirmed while the replica's persist was in flight
     * @param appliedAheadOfPersist hand-offs of committed entries before the replica's own latest
     *     persist was durable
     */
    public record Summary(long seed, int groups, long ticks, long steps, long proposals, long confChanges,
            long transfers, long crashes, long crashesDuringFsync, long pauses, long readsIssued, long readsConfirmed,
            long earlyOutput, long appliedAheadOfPersist) {}

    private void chaos(int chaosTicks) {
        sim.network().setFaults(pick(PROFILES));
        for (int tick = 0; tick < chaosTicks; tick++) {
            int dice = random.nextInt(1000);
            if (dice < 250) {
                propose();
            } else if (dice < 258) {
                crashSomeone();
            } else if (dice < 278) {
                restartSomeone();
            } else if (dice < 283) {
                sim.disconnect(anyStore());
            } else if (dice < 293) {
                sim.connect(anyStore());
            } else if (dice < 298) {
                partition();
            } else if (dice < 308) {
                sim.trace("heal");
                sim.network().heal();
            } else if (dice < 311) {
                int from = anyStore();
                int to = anyStore();
                if (from != to) {
                    sim.trace("cut " + from + "->" + to);
                    sim.network().cut(from, to);
                }
            } else if (dice < 316) {
                NetworkFaults faults = pick(PROFILES);
                sim.trace("faults " + faults);
                sim.network().setFaults(faults);
            } else if (dice < 331) {
                changeMembership();
            } else if (dice < 338) {
                transfer();
            } else if (dice < 388 && generation >= 2) {
                if (anyGroup().readIndex(anyStore()) > 0) {
                    readsIssued++;
                }
            } else if (dice < 391 && generation >= 4) {
                sim.pause(anyStore(), 1 + random.nextInt(2 * sim.options().electionTimeoutTicks()));
            }
            sim.runTicks(1);
        }
    }

    private void healAndConverge() {
        sim.trace("heal everything and converge");
        sim.network().heal();
        sim.network().setFaults(NetworkFaults.RELIABLE);
        for (int id = 1; id <= sim.nodeCount(); id++) {
            sim.store(id).armCrash(null);
            if (!sim.alive(id)) {
                sim.restart(id);
            }
            sim.connect(id);
        }
        long deadline = sim.nowTick() + CONVERGE_TICKS;
        for (int group = 1; group <= sim.groupCount(); group++) {
            converge(sim.group(group), deadline);
        }
    }

    /** A leader of {@code group} commits a final proposal and every member applies it. */
    private void converge(SimGroup group, long deadline) {
        while (sim.nowTick() < deadline) {
            int leader = group.newestLeader();
            if (leader > 0) {
                Simulator.Start start = group.start(leader, random.nextLong() & Long.MAX_VALUE);
                if (start.isLeader()) {
                    long index = start.index();
                    if (sim.runUntil(() -> membersApplied(group, index), Simulator.ticksForMillis(2_000))) {
                        return;
                    }
                    continue;
                }
            }
            sim.runMillis(50);
        }
        throw sim.fail("group " + group.id() + " did not converge within " + CONVERGE_TICKS
                + " ticks after healing: leader " + group.newestLeader() + ", applied " + appliedIndexes(group));
    }

    private boolean membersApplied(SimGroup group, long index) {
        int leader = group.newestLeader();
        if (leader <= 0) {
            return false;
        }
        ConfState conf = group.node(leader).confState();
        List<Long> members = new ArrayList<>(conf.getVotersList());
        members.addAll(conf.getLearnersList());
        members.addAll(conf.getVotersOutgoingList());
        for (long member : members) {
            if (group.node((int) member).appliedIndex() < index) {
                return false;
            }
        }
        return true;
    }

    private String appliedIndexes(SimGroup group) {
        StringBuilder text = new StringBuilder();
        for (int id = 1; id <= sim.nodeCount(); id++) {
            SimReplica node = group.node(id);
            text.append(id).append('=').append(node.appliedIndex()).append('/').append(node.role()).append(' ');
        }
        return text.toString().trim();
    }

    private int anyStore() {
        return 1 + random.nextInt(sim.nodeCount());
    }

    /** The group an action aims at: group 1 before generation 4 (which drew no group). */
    private SimGroup anyGroup() {
        return sim.group(generation >= 4 ? 1 + random.nextInt(sim.groupCount()) : 1);
    }

    private <T> T pick(List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    private void propose() {
        SimGroup group = anyGroup();
        int leader = group.newestLeader();
        int target = random.nextBoolean() && leader > 0 ? leader : anyStore();
        if (group.start(target, random.nextInt(Integer.MAX_VALUE)).isLeader()) {
            proposalsAccepted++;
        }
    }

    private void crashSomeone() {
        int id = anyStore();
        if (!sim.alive(id)) {
            return;
        }
        if (random.nextInt(1000) < sim.options().crashDuringReadyPerMille()) {
            CrashPoint point = switch (generation >= 4 ? random.nextInt(3) : random.nextInt(2)) {
                case 0 -> CrashPoint.BEFORE_PERSIST;
                case 1 -> CrashPoint.AFTER_PERSIST;
                default -> CrashPoint.BEFORE_PERSISTING_ENTRIES;
            };
            sim.trace("arm crash of " + id + " at " + point);
            sim.store(id).armCrash(point);
        } else {
            sim.crash(id);
        }
    }

    private void restartSomeone() {
        int id = anyStore();
        if (!sim.alive(id)) {
            sim.restart(id);
            sim.connect(id);
        }
    }

    private void partition() {
        List<Integer> left = new ArrayList<>();
        List<Integer> right = new ArrayList<>();
        for (int id = 1; id <= sim.nodeCount(); id++) {
            (random.nextBoolean() ? left : right).add(id);
        }
        sim.trace("partition " + left + " | " + right);
        sim.network().partition(List.of(left, right));
    }

    private void changeMembership() {
        SimGroup group = anyGroup();
        int leader = group.newestLeader();
        if (leader <= 0) {
            return;
        }
        ConfState conf = group.node(leader).confState();
        if (conf.getVotersOutgoingCount() > 0) {
            return;
        }
        List<Long> voters = conf.getVotersList();
        List<Long> learners = conf.getLearnersList();
        List<Long> outsiders = new ArrayList<>();
        for (long id = 1; id <= sim.nodeCount(); id++) {
            if (!voters.contains(id) && !learners.contains(id)) {
                outsiders.add(id);
            }
        }
        ConfChange change = null;
        int choice = random.nextInt(5);
        if (choice == 0 && !outsiders.isEmpty()) {
            change = ConfChanges.addLearner(pick(outsiders));
        } else if (choice == 1 && !learners.isEmpty()) {
            change = ConfChanges.addVoter(pick(learners));
        } else if (choice == 2 && voters.size() > 3) {
            change = ConfChanges.remove(pick(voters));
        } else if (choice == 3 && voters.size() >= 3 && !outsiders.isEmpty()) {
            change = ConfChanges.replace(pick(outsiders), pick(voters));
        } else if (choice == 4 && !learners.isEmpty()) {
            change = ConfChanges.remove(pick(learners));
        }
        if (change != null) {
            sim.trace("propose conf change at " + leader + " (group " + group.id() + "): "
                    + TextFormat.shortDebugString(change));
            if (group.proposeConfChange(leader, change)) {
                confChangesAccepted++;
            }
        }
    }

    private void transfer() {
        SimGroup group = anyGroup();
        int leader = group.newestLeader();
        if (leader <= 0) {
            return;
        }
        List<Long> voters = group.node(leader).confState().getVotersList();
        long target = pick(voters);
        if (target != leader) {
            sim.trace("transfer leadership " + leader + " -> " + target + " (group " + group.id() + ")");
            group.transferLeader(leader, (int) target);
            transfers++;
        }
    }
}
