package io.loomkv.core.kv.sim;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import io.loomkv.core.kv.KvSimMachine;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.sim.ConfChanges;
import io.loomkv.core.raft.sim.CrashPoint;
import io.loomkv.core.raft.sim.NetworkFaults;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.SimProperties;
import io.loomkv.core.raft.sim.SimReplica;
import io.loomkv.core.raft.sim.Simulator;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaMovePlanner;
import io.loomkv.core.shard.SlotAssignment;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.Bootstrap;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * One seeded run of the sharded service in the simulator (issue #15): on every store, a replica
 * of the shard controller (group 0, simulator group 1) and of two data groups (1 and 2, simulator
 * groups 2 and 3), each running the real {@code KvStateMachine} on the in-memory engine under the
 * server's replica driver; a {@link SimMigrationDriver} per store making {@code MigrationPlanner}'s
 * decisions; clients appending unique tokens through sessions and reading by ReadIndex
 * ({@link SimKvClient}); an operator
 * issuing Move, Join and Leave to the controller ({@link SimAdmin}); and the simulator's faults:
 * lost, duplicated, delayed and reordered messages, partitions, crashes (also inside a Ready),
 * pauses. Then everything heals, the operator and the clients stop, and the run must settle: every
 * data group at the controller's newest configuration with nothing moving. Then, per seed:
 * <ul>
 *   <li>every slot is served by exactly one group, the one the newest configuration names, and no
 *       group keeps a key of a slot it does not serve (handed-off data was deleted);
 *   <li>every acknowledged append is in its key exactly once, no token is there that was not
 *       acknowledged, and each key's appends are in an order that respects real time (one
 *       acknowledged before another was sent comes first; so each client's are in its order);
 *   <li>every read saw a prefix of its key's appends: all those acknowledged before it was sent,
 *       none sent after it returned, and no less than a read that returned before it was sent.
 *       With the two above, each key's history (its reads and the final value) is linearizable.
 * </ul>
 * With replica moves ({@link #runWithReplicaMoves}), the groups start on stores 1..3 of 4 or 5,
 * the operator also sends ReplaceReplica, a {@link SimReplicaMover} per store carries the moves
 * out and retires removed replicas, and the run settles only once every moved group's voters are
 * exactly its configured stores (no learner) and every store it left has retired its replica.
 * During the run, every 100 ms of simulated time, every live data-group replica serves only slots
 * its own configuration gives it. The Raft safety checks of every group run after every step, as
 * in every simulator run.
 */
public final class ShardedKvRun {

    /** 8 s of simulated chaos per seed. */
    public static final int CHAOS_TICKS = 800;
    /** After healing, the run gets 60 s of simulated time to settle. */
    static final long SETTLE_TICKS = Simulator.ticksForMillis(60_000);
    private static final long BOOTSTRAP_TICKS = Simulator.ticksForMillis(20_000);
    private static final List<Long> DATA_GROUPS = List.of(1L, 2L);
    private static final int CLIENTS = 4;
    private static final int KEYS = 12;
    private static final long SERVING_CHECK_EVERY_TICKS = 10;
    private static final NetworkFaults HEAVY = new NetworkFaults(300, 300, 50, 0, 6, 100, 10, 60);
    private static final List<NetworkFaults> PROFILES = List.of(
            NetworkFaults.RELIABLE, NetworkFaults.UNRELIABLE, NetworkFaults.UNRELIABLE_LONG_REORDER, HEAVY);

    private final Simulator sim;
    private final Random random;
    private final SlotLayout initial;
    private final SimCalls calls;
    private final ShardedFault fault;
    /** Whether the operator also moves data groups' replicas between stores (ReplaceReplica). */
    private final boolean replicaMoves;
    /** The stores every group starts on (all stores, unless replicas move: then 1..3, the rest spare). */
    private final List<Long> founding;
    private final List<SimMigrationDriver> drivers = new ArrayList<>();
    private final List<SimReplicaMover> movers = new ArrayList<>();
    private final List<SimKvClient> clients = new ArrayList<>();
    private final List<String> keys = new ArrayList<>();
    /** The index of each confirmed read, by "simulator group/context". */
    private final Map<String, Long> confirmedReads = new HashMap<>();
    private SimAdmin admin;
    private long servingChecks;

    private ShardedKvRun(Simulator sim, SlotLayout initial, ShardedFault fault, boolean replicaMoves) {
        this.sim = sim;
        this.fault = fault;
        this.replicaMoves = replicaMoves;
        this.founding = initial.replicas(DATA_GROUPS.get(0));
        this.random = sim.random();
        this.initial = initial;
        this.calls = new SimCalls(sim);
    }

    /** The chaos ticks a test run asks for ({@code -Dloomkv.sim.chaosTicks=T}), else {@link #CHAOS_TICKS}. */
    static int chaosTicksProperty() {
        String value = System.getProperty("loomkv.sim.chaosTicks");
        return value == null || value.isBlank() ? CHAOS_TICKS : SimProperties.chaosTicks();
    }

    /** The cluster a seed gets: 3 or 5 stores hosting the three groups; snapshots, fsync delays, mid-Ready crashes vary. */
    public static SimOptions optionsFor(long seed, boolean trace) {
        return optionsFor(seed, trace, false);
    }

    /**
     * With {@code replicaMoves}, 4 or 5 stores of which 1..3 host every group and the others are
     * spares a replica can move to (the rest of the shape drawn as without).
     */
    static SimOptions optionsFor(long seed, boolean trace, boolean replicaMoves) {
        // Mixed first: java.util.Random's first draws from neighbouring seeds are alike.
        Random shape = new Random(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        boolean large = shape.nextInt(4) == 0;
        int stores = replicaMoves ? (large ? 5 : 4) : (large ? 5 : 3);
        int voters = replicaMoves ? 3 : stores;
        int snapshotInterval = switch (shape.nextInt(3)) {
            case 0 -> 0;
            case 1 -> 10;
            default -> 40;
        };
        boolean preVote = shape.nextInt(4) != 0;
        boolean checkQuorum = shape.nextInt(4) != 0;
        int crashDuringReadyPerMille = shape.nextInt(500);
        int maxPersistDelayTicks = shape.nextInt(4) != 0 ? 1 + shape.nextInt(4) : 0;
        return new SimOptions(stores, voters, 1 + DATA_GROUPS.size(), seed, SimOptions.DEFAULT_ELECTION_TIMEOUT_TICKS,
                SimOptions.DEFAULT_HEARTBEAT_INTERVAL_TICKS, preVote, checkQuorum, snapshotInterval,
                crashDuringReadyPerMille, false, 0, maxPersistDelayTicks, trace, SimOptions.RuntimeFault.NONE);
    }

    /** What one run did, for the test's report. */
    public record Summary(long seed, int stores, long ticks, long steps, long crashes, long pauses, List<String> configs,
            int refusedCommands, long configNumber, int acknowledgedWrites, long readsChecked, long servingChecks, long writeAttempts, long wrongGroupReplies,
            long unavailableReplies, long migrationProposals, long callsAnswered, long replicaMoveSteps, long replicasRetired) {}

    /** Runs {@code seed} with {@code chaosTicks} ticks of faults; throws an AssertionError naming the seed when a check fails. */
    public static Summary run(long seed, int chaosTicks, String replayHint, boolean trace) {
        return run(seed, chaosTicks, replayHint, trace, ShardedFault.NONE);
    }

    /** As {@link #run(long, int, String, boolean)}, with the operator also moving replicas between stores. */
    public static Summary runWithReplicaMoves(long seed, int chaosTicks, String replayHint, boolean trace) {
        return run(seed, chaosTicks, replayHint, trace, ShardedFault.NONE, true);
    }

    /** As {@link #run(long, int, String, boolean)}, with a deliberate bug (the self-test's). */
    static Summary run(long seed, int chaosTicks, String replayHint, boolean trace, ShardedFault fault) {
        return run(seed, chaosTicks, replayHint, trace, fault, false);
    }

    static Summary run(long seed, int chaosTicks, String replayHint, boolean trace, ShardedFault fault, boolean replicaMoves) {
        if (chaosTicks < 1) {
            throw new IllegalArgumentException("chaosTicks must be >= 1, got " + chaosTicks);
        }
        SimOptions options = optionsFor(seed, trace, replicaMoves);
        List<Long> stores = new ArrayList<>();
        for (long id = 1; id <= options.nodeCount(); id++) {
            stores.add(id);
        }
        SlotLayout initial = initialLayout(stores.subList(0, options.voterCount()));
        String hint = chaosTicks == CHAOS_TICKS ? replayHint : replayHint + " -Dloomkv.sim.chaosTicks=" + chaosTicks;
        Simulator sim = new Simulator(options, hint, group -> group == 1
                ? new KvSimMachine(GroupIds.CONTROLLER_GROUP_ID, SlotSet.empty())
                : new KvSimMachine(group - 1, initial.slotsOf(group - 1)));
        ShardedKvRun run = new ShardedKvRun(sim, initial, fault, replicaMoves);
        if (replicaMoves) {
            run.controllerLearners();
        }
        run.bootstrap();
        if (replicaMoves) {
            run.prepareReplicaMoves();
        }
        run.start(stores, chaosTicks);
        run.chaos(chaosTicks);
        run.settle();
        return run.check();
    }

    /** Configuration 1: the lower half of the slots in group 1, the upper half in group 2, both on every store. */
    static SlotLayout initialLayout(List<Long> stores) {
        int half = Slots.SLOT_COUNT / 2;
        Map<Long, List<Long>> replicas = new TreeMap<>();
        for (long group : DATA_GROUPS) {
            replicas.put(group, stores);
        }
        return SlotLayout.of(1, List.of(new SlotAssignment(new SlotRange(0, half - 1), 1),
                new SlotAssignment(new SlotRange(half, Slots.SLOT_COUNT - 1), 2)), replicas);
    }

    /** The controller's first entry, as the server writes it when the cluster is created (session-less). */
    private void bootstrap() {
        Command bootstrap = Command.newBuilder().setTimestampMillis(SimSession.CLOCK_BASE_MILLIS)
                .setController(ControllerCommand.newBuilder().setBootstrap(Bootstrap.newBuilder().setConfig(initial.toProto())))
                .build();
        ByteString data = CommandBatch.newBuilder().addCommands(bootstrap).build().toByteString();
        long deadline = sim.nowTick() + BOOTSTRAP_TICKS;
        while (latestConfig() == null) {
            if (sim.nowTick() >= deadline) {
                throw sim.fail("the controller was not bootstrapped within " + BOOTSTRAP_TICKS + " ticks");
            }
            int leader = sim.group(1).newestLeader();
            if (leader > 0) {
                sim.group(1).propose(leader, data);
            }
            sim.runTicks(20);
        }
    }

    /**
     * The spare stores become learners of the controller group, so that each reads the
     * configuration from its own replica (a server's store outside the controller's hosts asks one
     * of them over the peer port; the simulator's drivers read locally).
     */
    private void controllerLearners() {
        long deadline = sim.nowTick() + BOOTSTRAP_TICKS;
        for (int spare = founding.size() + 1; spare <= sim.nodeCount(); spare++) {
            int store = spare;
            while (!sim.group(1).leaders().stream().anyMatch(leader -> sim.store(leader).replica(1).confState()
                    .getLearnersList().contains((long) store))) {
                if (sim.nowTick() >= deadline) {
                    throw sim.fail("store " + store + " did not become a learner of the controller within " + BOOTSTRAP_TICKS + " ticks");
                }
                int leader = sim.group(1).newestLeader();
                if (leader > 0) {
                    sim.group(1).proposeConfChange(leader, ConfChanges.addLearner(store));
                }
                sim.runTicks(20);
            }
        }
    }

    /**
     * Before replicas move: every founding replica of a data group snapshots once (the simulator's
     * founding membership is not in the log, as the server's initial membership entries are, so a
     * replica created empty for a leader must get a snapshot, never the log from index 1), and the
     * spare stores' replicas of the data groups are retired: a server's store has none of a group
     * it was not placed on until a leader's first message creates it.
     */
    private void prepareReplicaMoves() {
        long deadline = sim.nowTick() + BOOTSTRAP_TICKS;
        for (long group : DATA_GROUPS) {
            int simGroup = SimMigrationDriver.simGroup(group);
            for (long store : founding) {
                SimReplica replica = sim.store((int) store).replica(simGroup);
                if (!sim.runUntil(() -> replica.appliedIndex() > 0, Math.max(1, deadline - sim.nowTick()))) {
                    throw sim.fail("store " + store + "'s replica of group " + group + " applied nothing within "
                            + BOOTSTRAP_TICKS + " ticks");
                }
                replica.snapshotNow();
            }
            for (int spare = founding.size() + 1; spare <= sim.nodeCount(); spare++) {
                sim.store(spare).replica(simGroup).retire();
            }
        }
    }

    private void start(List<Long> stores, int chaosTicks) {
        for (int i = 0; i < KEYS; i++) {
            keys.add("key-" + i);
        }
        for (int store = 1; store <= sim.nodeCount(); store++) {
            drivers.add(new SimMigrationDriver(sim, calls, store, DATA_GROUPS, fault));
        }
        if (replicaMoves) {
            startMovers();
        }
        for (int client = 0; client < CLIENTS; client++) {
            clients.add(new SimKvClient(sim, client, DATA_GROUPS.get(client % DATA_GROUPS.size()), keys, this::route,
                    (simGroup, context) -> confirmedReads.getOrDefault(simGroup + "/" + context, -1L), fault));
        }
        List<Long> commandTicks = new ArrayList<>();
        int commands = (replicaMoves ? 3 : 2) + random.nextInt(4);
        for (int i = 0; i < commands; i++) {
            commandTicks.add(sim.nowTick() + random.nextInt(chaosTicks));
        }
        for (long group : DATA_GROUPS) {
            int simGroup = SimMigrationDriver.simGroup(group);
            sim.group(simGroup).onReadConfirmed((store, context, index) ->
                    confirmedReads.putIfAbsent(simGroup + "/" + context, index));
        }
        admin = new SimAdmin(sim, DATA_GROUPS, founding, replicaMoves ? stores : List.of(), this::latestConfig, commandTicks);
        sim.addTickHook(() -> {
            calls.onTick();
            for (SimMigrationDriver driver : drivers) {
                driver.tick();
            }
            for (SimReplicaMover mover : movers) {
                mover.tick();
            }
            for (SimKvClient client : clients) {
                client.tick();
            }
            admin.tick();
            if (sim.nowTick() % SERVING_CHECK_EVERY_TICKS == 0) {
                checkServing();
            }
            return true;
        });
    }

    /** A {@link SimReplicaMover} per store, told of every conf change applied and message delivered, deciding creations. */
    private void startMovers() {
        for (int store = 1; store <= sim.nodeCount(); store++) {
            movers.add(new SimReplicaMover(sim, calls, store, DATA_GROUPS, fault, at -> movers.get(at - 1)));
        }
        for (long group : DATA_GROUPS) {
            int simGroup = SimMigrationDriver.simGroup(group);
            sim.group(simGroup).onMembershipApplied((store, index, term, before, after, lastLogIndex) ->
                    movers.get(store - 1).onMembershipApplied(group, index, term, before, after, lastLogIndex));
            sim.group(simGroup).onDelivery((store, message) -> movers.get(store - 1).onDelivered(group, message));
        }
        sim.onReplicaCreation((store, simGroup) -> simGroup != 1 && movers.get(store - 1).mayCreate(simGroup - 1));
    }

    /**
     * Throughout the run, at every live replica of a data group: the slots it serves are slots
     * its configuration gives it (so two groups serve one slot only at different configuration
     * numbers, and the move protocol has frozen the older one's copy).
     */
    private void checkServing() {
        KvSimMachine controller = newestController();
        if (controller == null) {
            return;
        }
        for (int store = 1; store <= sim.nodeCount(); store++) {
            for (long group : DATA_GROUPS) {
                KvSimMachine machine = (KvSimMachine) sim.store(store).replica(SimMigrationDriver.simGroup(group)).machine();
                long config = machine == null ? 0 : machine.machine().configNumber();
                if (config == 0 || config > controller.machine().latestConfig().version()) {
                    continue;
                }
                SlotLayout layout = SlotLayout.fromProto(controller.machine().controller().query(config));
                for (SlotRange range : machine.machine().ownedSlots().ranges()) {
                    for (int slot = range.first(); slot <= range.last(); slot++) {
                        if (layout.groupOf(slot) != group) {
                            throw sim.fail("store " + store + "'s replica of group " + group + " serves slot " + slot
                                    + " at configuration " + config + ", which gives it to group " + layout.groupOf(slot));
                        }
                    }
                }
            }
        }
        servingChecks++;
    }

    private KvSimMachine newestController() {
        KvSimMachine newest = null;
        for (int store = 1; store <= sim.nodeCount(); store++) {
            KvSimMachine machine = (KvSimMachine) sim.store(store).replica(1).machine();
            SlotLayout config = machine == null ? null : machine.machine().latestConfig();
            if (config != null && (newest == null || config.version() > newest.machine().latestConfig().version())) {
                newest = machine;
            }
        }
        return newest;
    }

    /** The group a key's write goes to: its owner in the newest configuration, the other group after that one refused it. */
    private long route(ByteString key, long refusedBy) {
        SlotLayout config = latestConfig();
        long owner = config == null ? DATA_GROUPS.get(0) : config.groupOf(Slots.slotOf(key));
        if (owner != refusedBy) {
            return owner;
        }
        return DATA_GROUPS.get((DATA_GROUPS.indexOf(owner) + 1) % DATA_GROUPS.size());
    }

    /** The newest configuration any live replica of the controller has applied (null before the bootstrap). */
    private SlotLayout latestConfig() {
        KvSimMachine newest = newestController();
        return newest == null ? null : newest.machine().latestConfig();
    }

    private void chaos(int chaosTicks) {
        sim.network().setFaults(pick(PROFILES));
        for (int tick = 0; tick < chaosTicks; tick++) {
            int dice = random.nextInt(1000);
            if (dice < 6) {
                crashSomeone();
            } else if (dice < 26) {
                restartSomeone();
            } else if (dice < 30) {
                sim.disconnect(anyStore());
            } else if (dice < 40) {
                sim.connect(anyStore());
            } else if (dice < 44) {
                partition();
            } else if (dice < 54) {
                sim.network().heal();
            } else if (dice < 59) {
                sim.network().setFaults(pick(PROFILES));
            } else if (dice < 62) {
                sim.pause(anyStore(), 1 + random.nextInt(2 * sim.options().electionTimeoutTicks()));
            } else if (dice < 68) {
                transfer();
            }
            sim.runTicks(1);
        }
    }

    private void settle() {
        sim.network().heal();
        sim.network().setFaults(NetworkFaults.RELIABLE);
        for (int id = 1; id <= sim.nodeCount(); id++) {
            sim.store(id).armCrash(null);
            if (!sim.alive(id)) {
                sim.restart(id);
            }
            sim.connect(id);
        }
        admin.stop();
        clients.forEach(SimKvClient::stop);
        if (!sim.runUntil(this::settled, SETTLE_TICKS)) {
            throw sim.fail("the run did not settle within " + SETTLE_TICKS + " ticks after healing: " + settleState());
        }
    }

    private boolean settled() {
        if (!admin.done() || !clients.stream().allMatch(SimKvClient::done)) {
            return false;
        }
        SlotLayout latest = latestConfig();
        if (latest == null) {
            return false; // No controller replica is up yet (the stores restarted at healing are still starting).
        }
        for (long group : DATA_GROUPS) {
            KvSimMachine leader = leaderMachine(group);
            // The leader the checks read from has applied everything any replica applied (so
            // every entry a client was answered from).
            if (leader == null || leader.appliedIndex() < sim.group(SimMigrationDriver.simGroup(group)).highestAppliedIndex()
                    || leader.machine().configNumber() != latest.version() || leader.machine().movingSlotCount() > 0) {
                return false;
            }
        }
        return !replicaMoves || placementProblem(latest) == null;
    }

    /**
     * Null once every group the controller moved a replica of has exactly the configuration's
     * stores as voters (no learner, no joint configuration) and every store it does not list has
     * retired its replica (holds no replica serving the group); else what is still off.
     */
    private String placementProblem(SlotLayout latest) {
        for (long group : DATA_GROUPS) {
            if (!ReplicaMovePlanner.managed(latest, group)) {
                continue;
            }
            int simGroup = SimMigrationDriver.simGroup(group);
            int leader = sim.group(simGroup).newestLeader();
            List<Long> listed = latest.replicas(group);
            ConfState conf = leader == 0 ? null : sim.store(leader).replica(simGroup).confState();
            if (conf == null || ReplicaMovePlanner.differs(conf, listed)) {
                return "group " + group + " has membership " + (conf == null ? "unknown (no leader)" : TextFormat.shortDebugString(conf))
                        + " but configuration " + latest.version() + " lists stores " + listed;
            }
            for (int store = 1; store <= sim.nodeCount(); store++) {
                SimReplica replica = sim.store(store).replica(simGroup);
                if (!listed.contains((long) store) && !replica.retired()) {
                    return "store " + store + ", which configuration " + latest.version() + " does not list for group "
                            + group + ", still holds a replica of it (applied up to " + replica.appliedIndex() + ")";
                }
            }
        }
        return null;
    }

    private String settleState() {
        StringBuilder state = new StringBuilder("admin done " + admin.done() + ", clients in flight [");
        for (SimKvClient client : clients) {
            state.append(client.inFlight()).append(' ');
        }
        state.append("], controller at ").append(latestConfig().version());
        for (long group : DATA_GROUPS) {
            KvSimMachine leader = leaderMachine(group);
            state.append(", group ").append(group).append(leader == null ? " has no leader"
                    : " at " + leader.machine().configNumber() + " moving " + leader.machine().movingSlotCount());
        }
        if (replicaMoves) {
            String problem = placementProblem(latestConfig());
            state.append(", replicas: ").append(problem == null ? "placed" : problem);
        }
        return state.toString();
    }

    private KvSimMachine leaderMachine(long group) {
        int leader = sim.group(SimMigrationDriver.simGroup(group)).newestLeader();
        return leader == 0 ? null : (KvSimMachine) sim.store(leader).replica(SimMigrationDriver.simGroup(group)).machine();
    }

    private Summary check() {
        SlotLayout latest = latestConfig();
        Map<Long, TreeMap<ByteString, ByteString>> contents = new HashMap<>();
        for (long group : DATA_GROUPS) {
            KvSimMachine leader = leaderMachine(group);
            SlotSet expected = latest.groups().contains(group) ? latest.slotsOf(group) : SlotSet.empty();
            SlotSet served = leader.machine().ownedSlots();
            if (!served.equals(expected)) {
                throw sim.fail("group " + group + " serves " + served + " but configuration " + latest.version()
                        + " gives it " + expected);
            }
            contents.put(group, leader.userContents());
            for (ByteString key : contents.get(group).keySet()) {
                if (!served.contains(Slots.slotOf(key))) {
                    throw sim.fail("group " + group + " still holds key " + key.toStringUtf8() + " of slot "
                            + Slots.slotOf(key) + ", which it does not serve");
                }
            }
        }
        HistoryChecks history = new HistoryChecks(sim, clients, keys);
        int acknowledged = history.check(latest, contents);
        long attempts = clients.stream().mapToLong(SimKvClient::attempts).sum();
        long proposals = drivers.stream().mapToLong(SimMigrationDriver::proposals).sum();
        return new Summary(sim.seed(), sim.nodeCount(), sim.nowTick(), sim.stepsRun(), sim.stats().crashes(),
                sim.stats().pauses(), admin.made(), admin.refused(), latest.version(), acknowledged, history.readsChecked(), servingChecks, attempts,
                clients.stream().mapToLong(SimKvClient::wrongGroupReplies).sum(),
                clients.stream().mapToLong(SimKvClient::unavailableReplies).sum(), proposals,
                calls.callsAnswered(), movers.stream().mapToLong(SimReplicaMover::steps).sum(),
                movers.stream().mapToLong(SimReplicaMover::retired).sum());
    }

    private int anyStore() {
        return 1 + random.nextInt(sim.nodeCount());
    }

    private <T> T pick(List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    private void crashSomeone() {
        int id = anyStore();
        if (!sim.alive(id)) {
            return;
        }
        if (random.nextInt(1000) < sim.options().crashDuringReadyPerMille()) {
            CrashPoint point = switch (random.nextInt(3)) {
                case 0 -> CrashPoint.BEFORE_PERSIST;
                case 1 -> CrashPoint.AFTER_PERSIST;
                default -> CrashPoint.BEFORE_PERSISTING_ENTRIES;
            };
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
        sim.network().partition(List.of(left, right));
    }

    private void transfer() {
        int simGroup = 1 + random.nextInt(sim.groupCount());
        int leader = sim.group(simGroup).newestLeader();
        int target = anyStore();
        if (leader > 0 && target != leader) {
            sim.group(simGroup).transferLeader(leader, target);
        }
    }
}
