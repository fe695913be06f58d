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
 * crashes, including crashes in the middle of handling a Ready), client proposals, membership
 * changes (learners, promotions, removals including of the leader, joint replacements),
 * leadership transfers and linearizable reads (ReadIndex or lease, checked against every index
 * committed before the read was issued), with every safety invariant checked after every step; then everything
 * heals and the cluster must converge: a leader commits a final proposal and every member
 * applies it.
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
    private long crashes;
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
     * editing one: regression seeds keep naming the generation they failed under.
     * <ul>
     *   <li>1: faults, crashes, proposals, membership changes, transfers;
     *   <li>2: as 1, plus linearizable reads (ReadIndex or leases) and a node with a slow clock;
     *   <li>3: as 2, plus persists that take 0-3 ticks while the node keeps running (on half the seeds).
     * </ul>
     */
    public static final int LATEST_GENERATION = 3;

    /** The options a seed gets: 3 or 5 voters, sometimes spare nodes, snapshots, and mid-Ready crashes. */
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
        int maxPersistDelayTicks = generation >= 3 && shape.nextBoolean() ? 1 + shape.nextInt(3) : 0;
        return new SimOptions(voters + spares, voters, seed, SimOptions.DEFAULT_ELECTION_TIMEOUT_TICKS,
                SimOptions.DEFAULT_HEARTBEAT_INTERVAL_TICKS, preVote, checkQuorum, snapshotInterval,
                crashDuringReadyPerMille, leaseReads, slowClockSkipEveryTicks, maxPersistDelayTicks, trace,
                SimOptions.RuntimeFault.NONE);
    }

    /** Runs one seed; throws an AssertionError naming the seed if an invariant or convergence fails. */
    public static Summary run(long seed, String replayHint, boolean trace) {
        return run(optionsFor(seed, trace), LATEST_GENERATION, replayHint);
    }

    /** Runs {@code seed} as generation {@code generation} of the generator made it. */
    public static Summary run(long seed, int generation, String replayHint, boolean trace) {
        return run(optionsFor(seed, trace, generation), generation, replayHint);
    }

    /** Runs with the given options (the self-test injects runtime bugs through them). */
    public static Summary run(SimOptions options, String replayHint) {
        return run(options, LATEST_GENERATION, replayHint);
    }

    private static Summary run(SimOptions options, int generation, String replayHint) {
        long seed = options.seed();
        Simulator sim = new Simulator(options, replayHint);
        RandomRun run = new RandomRun(sim, generation);
        run.chaos();
        long finalIndex = run.healAndConverge();
        return new Summary(seed, sim.nowTick(), sim.stepsRun(), run.proposalsAccepted, run.confChangesAccepted,
                run.transfers, run.crashes, run.readsIssued, sim.readsConfirmed(), finalIndex);
    }

    /** What a run did, for the test's report. */
    public record Summary(long seed, long ticks, long steps, long proposals, long confChanges, long transfers,
            long crashes, long readsIssued, long readsConfirmed, long finalIndex) {}

    private void chaos() {
        sim.network().setFaults(pick(PROFILES));
        int chaosTicks = SimProperties.chaosTicks();
        for (int tick = 0; tick < chaosTicks; tick++) {
            int dice = random.nextInt(1000);
            if (dice < 250) {
                propose();
            } else if (dice < 258) {
                crashSomeone();
            } else if (dice < 278) {
                restartSomeone();
            } else if (dice < 283) {
                sim.disconnect(anyNode());
            } else if (dice < 293) {
                sim.connect(anyNode());
            } else if (dice < 298) {
                partition();
            } else if (dice < 308) {
                sim.trace("heal");
                sim.network().heal();
            } else if (dice < 311) {
                int from = anyNode();
                int to = anyNode();
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
                if (sim.readIndex(anyNode()) > 0) {
                    readsIssued++;
                }
            }
            sim.runTicks(1);
        }
    }

    private long healAndConverge() {
        sim.trace("heal everything and converge");
        sim.network().heal();
        sim.network().setFaults(NetworkFaults.RELIABLE);
        for (int id = 1; id <= sim.nodeCount(); id++) {
            sim.node(id).armCrash(null);
            if (!sim.alive(id)) {
                sim.restart(id);
            }
            sim.connect(id);
        }
        long deadline = sim.nowTick() + CONVERGE_TICKS;
        while (sim.nowTick() < deadline) {
            int leader = leader();
            if (leader > 0) {
                Simulator.Start start = sim.start(leader, random.nextLong() & Long.MAX_VALUE);
                if (start.isLeader()) {
                    long index = start.index();
                    if (sim.runUntil(() -> membersApplied(index), Simulator.ticksForMillis(2_000))) {
                        return index;
                    }
                    continue;
                }
            }
            sim.runMillis(50);
        }
        throw sim.fail("no convergence within " + CONVERGE_TICKS + " ticks after healing: leader " + leader()
                + ", applied " + appliedIndexes());
    }

    private boolean membersApplied(long index) {
        int leader = leader();
        if (leader <= 0) {
            return false;
        }
        ConfState conf = sim.node(leader).confState();
        List<Long> members = new ArrayList<>(conf.getVotersList());
        members.addAll(conf.getLearnersList());
        members.addAll(conf.getVotersOutgoingList());
        for (long member : members) {
            if (sim.node((int) member).appliedIndex() < index) {
                return false;
            }
        }
        return true;
    }

    private String appliedIndexes() {
        StringBuilder text = new StringBuilder();
        for (int id = 1; id <= sim.nodeCount(); id++) {
            SimNode node = sim.node(id);
            text.append(id).append('=').append(node.appliedIndex()).append('/').append(node.role()).append(' ');
        }
        return text.toString().trim();
    }

    /** The leader with the highest term, or 0. */
    private int leader() {
        int leader = 0;
        long term = -1;
        for (int id : sim.leaders()) {
            if (sim.term(id) > term) {
                leader = id;
                term = sim.term(id);
            }
        }
        return leader;
    }

    private int anyNode() {
        return 1 + random.nextInt(sim.nodeCount());
    }

    private <T> T pick(List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    private void propose() {
        int target = random.nextBoolean() && leader() > 0 ? leader() : anyNode();
        if (sim.start(target, random.nextInt(Integer.MAX_VALUE)).isLeader()) {
            proposalsAccepted++;
        }
    }

    private void crashSomeone() {
        int id = anyNode();
        if (!sim.alive(id)) {
            return;
        }
        crashes++;
        if (random.nextInt(1000) < sim.options().crashDuringReadyPerMille()) {
            SimNode.CrashPoint point = random.nextBoolean() ? SimNode.CrashPoint.BEFORE_PERSIST : SimNode.CrashPoint.AFTER_PERSIST;
            sim.trace("arm crash of " + id + " at " + point);
            sim.node(id).armCrash(point);
        } else {
            sim.crash(id);
        }
    }

    private void restartSomeone() {
        int id = anyNode();
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
        int leader = leader();
        if (leader <= 0) {
            return;
        }
        ConfState conf = sim.node(leader).confState();
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
            sim.trace("propose conf change at " + leader + ": " + TextFormat.shortDebugString(change));
            if (sim.proposeConfChange(leader, change)) {
                confChangesAccepted++;
            }
        }
    }

    private void transfer() {
        int leader = leader();
        if (leader <= 0) {
            return;
        }
        List<Long> voters = sim.node(leader).confState().getVotersList();
        long target = pick(voters);
        if (target != leader) {
            sim.trace("transfer leadership " + leader + " -> " + target);
            sim.transferLeader(leader, (int) target);
            transfers++;
        }
    }
}
