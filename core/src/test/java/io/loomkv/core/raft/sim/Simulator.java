package io.loomkv.core.raft.sim;

import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * A deterministic simulation of a Multi-Raft cluster: stores {@code 1..N} ({@link SimStore}), each
 * hosting one replica of every group {@code 1..G} ({@link SimReplica}, run by the server's own
 * {@code ReplicaDriver}) over one WAL per store ({@link SimWal}); a {@link SimNetwork} between the
 * stores that loses, duplicates, delays and reorders messages and can be partitioned; crashes and
 * pauses of whole stores; and each group's {@link SafetyChecker} invariants checked after every
 * step. With one group (the default) it is the classic single-group simulation, and the methods
 * here that name no group act on group 1, so {@code node(i)} is store i's replica of group 1.
 *
 * <h2>Time</h2>
 * Simulated time advances in ticks; one tick is {@value #MILLIS_PER_TICK} ms of simulated time.
 * In every tick the simulator first runs the scenario's tick hooks, then completes the stores'
 * fsyncs that are due (waking their replicas), then hands every running replica a turn with the
 * tick and the messages that arrived for it (ticks first, as the runtime's loop does), then runs
 * further turns for messages sent with no delay. Each turn is a step. So 6.824's "a leader within
 * one second" is "a leader within 100 ticks", and its {@code time.Sleep(RaftElectionTimeout)} is
 * 100 ticks.
 *
 * <h2>Determinism</h2>
 * Everything runs on the calling thread; all randomness comes from one {@link Random} seeded with
 * {@link SimOptions#seed()}; stores, groups, messages and events are visited in orders that depend
 * only on ids and sequence numbers (no hash-map iteration). The same seed therefore replays the
 * same run, and every failure message names the seed and how to replay it.
 */
public final class Simulator {

    public static final int MILLIS_PER_TICK = 10;

    /** Deliveries of zero-delay messages within one tick are bounded, so a message storm fails loudly. */
    private static final int MAX_DELIVERY_ROUNDS_PER_TICK = 10_000;

    private final SimOptions options;
    private final String replayHint;
    private final Random random;
    private final SimNetwork network;
    private final SimGroup[] groups;
    private final SimStore[] stores;
    private final SimStats stats = new SimStats();
    private long nowTick;
    private long nextProposalId = 1;
    private final List<TickHook> tickHooks = new ArrayList<>();
    private final SimMachine.Factory machines;

    /**
     * Whether a store may create a new, empty replica of a group for a leader's message, in place
     * of one it retired ({@link SimReplica#retire}): the scenario's rule, as a server's store has
     * one. Without a rule, never (no scenario retires replicas then).
     */
    @FunctionalInterface
    public interface ReplicaCreation {
        boolean mayCreate(int storeId, int group);
    }

    private ReplicaCreation replicaCreation = (storeId, group) -> false;

    /** Work a scenario does at the start of every tick, like a 6.824 client goroutine would. */
    @FunctionalInterface
    public interface TickHook {
        /** @return whether to keep running this hook at later ticks */
        boolean onTick();
    }

    /**
     * @param replayHint how to rerun the failing test, e.g. {@code -Dtest=Election2ATest#ReElection};
     *     the seed is added to it
     */
    public Simulator(SimOptions options, String replayHint) {
        this(options, replayHint, group -> new SimStateMachine());
    }

    /** A simulation whose replicas run the state machines {@code machines} builds (see {@link SimMachine}). */
    public Simulator(SimOptions options, String replayHint, SimMachine.Factory machines) {
        this.options = options;
        this.machines = machines;
        this.replayHint = replayHint;
        this.random = new Random(options.seed());
        this.network = new SimNetwork(options.nodeCount(), random);
        List<Long> voters = new ArrayList<>();
        for (long id = 1; id <= options.voterCount(); id++) {
            voters.add(id);
        }
        ConfState initialMembership = MemoryStorage.bootstrap(voters).initialState().confState();
        this.groups = new SimGroup[options.groups() + 1];
        for (int group = 1; group <= options.groups(); group++) {
            groups[group] = new SimGroup(this, group, initialMembership);
        }
        this.stores = new SimStore[options.nodeCount() + 1];
        for (int id = 1; id <= options.nodeCount(); id++) {
            stores[id] = new SimStore(id, this, voters);
        }
        for (int id = 1; id <= options.nodeCount(); id++) {
            stores[id].start();
        }
    }

    /** Builds the failure of this run: the message, the seed, the simulated time and how to replay. */
    public AssertionError fail(String message) {
        return new AssertionError(message + " [seed=" + options.seed() + ", tick=" + nowTick + " ("
                + nowTick * MILLIS_PER_TICK + " ms simulated), replay: mvn -o -pl core test " + replayHint
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dloomkv.sim.seed=" + options.seed()
                + " -Dloomkv.sim.trace=true]");
    }

    public static long ticksForMillis(long millis) {
        return Math.ceilDiv(millis, MILLIS_PER_TICK);
    }

    public SimOptions options() {
        return options;
    }

    public long seed() {
        return options.seed();
    }

    /** The number of stores (6.824's servers). */
    public int nodeCount() {
        return options.nodeCount();
    }

    public int groupCount() {
        return options.groups();
    }

    public long nowTick() {
        return nowTick;
    }

    public long stepsRun() {
        return stats.steps();
    }

    /** What the run exercised so far (crashes, fsyncs, early output, ...). */
    public SimStats stats() {
        return stats;
    }

    /** The run's only source of randomness; scenarios draw their random choices from it too. */
    public Random random() {
        return random;
    }

    public SimNetwork network() {
        return network;
    }

    public SimGroup group(int id) {
        if (id < 1 || id > options.groups()) {
            throw new IllegalArgumentException("group id must be in [1, " + options.groups() + "], got " + id);
        }
        return groups[id];
    }

    public SimStore store(int id) {
        if (id < 1 || id > options.nodeCount()) {
            throw new IllegalArgumentException("store id must be in [1, " + options.nodeCount() + "], got " + id);
        }
        return stores[id];
    }

    /** Store {@code id}'s replica of group 1. */
    public SimReplica node(int id) {
        return store(id).replica(1);
    }

    SimMachine newMachine(int group) {
        SimMachine machine = machines.create(group);
        if (machine == null || machine.appliedIndex() != 0) {
            throw new IllegalStateException("the machine factory must build an empty machine for group " + group + ", got " + machine);
        }
        return machine;
    }

    long newProposalId() {
        return nextProposalId++;
    }

    void trace(String event) {
        if (options.trace()) {
            System.out.println("[t=" + nowTick + "] " + event);
        }
    }

    // ---- time ----

    /** Runs {@code ticks} ticks of simulated time. */
    public void runTicks(long ticks) {
        for (long i = 0; i < ticks; i++) {
            runOneTick();
        }
    }

    public void runMillis(long millis) {
        runTicks(ticksForMillis(millis));
    }

    /**
     * Runs tick by tick until {@code condition} holds (checked before each tick), for at most
     * {@code maxTicks} ticks.
     *
     * @return whether the condition came to hold
     */
    public boolean runUntil(BooleanSupplier condition, long maxTicks) {
        for (long i = 0; i < maxTicks; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            runOneTick();
        }
        return condition.getAsBoolean();
    }

    /** Sets the rule by which stores create replicas in place of retired ones. */
    public void onReplicaCreation(ReplicaCreation rule) {
        replicaCreation = rule;
    }

    boolean mayCreateReplica(int storeId, int group) {
        return replicaCreation.mayCreate(storeId, group);
    }

    /** Runs {@code hook} at the start of every tick (in registration order) until it returns false. */
    public void addTickHook(TickHook hook) {
        tickHooks.add(hook);
    }

    private void runOneTick() {
        if (!tickHooks.isEmpty()) {
            List<TickHook> hooks = List.copyOf(tickHooks);
            for (TickHook hook : hooks) {
                if (!hook.onTick()) {
                    tickHooks.remove(hook);
                }
            }
        }
        for (int id = 1; id <= options.nodeCount(); id++) {
            stores[id].completeDueFsync();
        }
        deliverDue();
        for (int id = 1; id <= options.nodeCount(); id++) {
            boolean missesTick = id == 1 && options.slowClockSkipEveryTicks() > 0
                    && nowTick % options.slowClockSkipEveryTicks() == 0;
            stores[id].runTurns(missesTick ? 0 : 1);
        }
        for (int round = 1; network.hasDue(nowTick); round++) {
            if (round > MAX_DELIVERY_ROUNDS_PER_TICK) {
                throw fail("more than " + MAX_DELIVERY_ROUNDS_PER_TICK + " delivery rounds in one tick: message storm");
            }
            deliverDue();
            for (int id = 1; id <= options.nodeCount(); id++) {
                stores[id].runTurns(0);
            }
        }
        nowTick++;
    }

    /** Puts the messages due now into their replicas' inboxes (a crashed store's are lost). */
    private void deliverDue() {
        for (SimNetwork.Delivery delivery : network.takeDue(nowTick)) {
            Message message = delivery.message();
            SimStore target = stores[(int) message.getTo()];
            if (target.alive()) {
                if (options.trace()) {
                    trace("deliver " + SimTrace.describe(message) + (options.groups() == 1 ? "" : " (group " + delivery.group() + ")"));
                }
                target.replica(delivery.group()).receive(message);
            }
        }
    }

    /** Called after every event on a store, once its replicas handled their Readies. */
    void afterStep(SimStore store) {
        stats.countStep();
        store.checkInvariants();
    }

    void send(int group, Message message) {
        network.send(group, message, nowTick);
    }

    void countEarlyOutput(int messages, int reads) {
        stats.countEarlyOutput(messages, reads);
    }

    void countAppliedAheadOfPersist() {
        stats.countAppliedAheadOfPersist();
    }

    void onStoreCrashed(SimStore store, SimWal.CrashLoss loss) {
        stats.countCrash(loss);
        if (loss.midFsync()) {
            trace("store " + store.id() + " crashed during an fsync of " + loss.flushingRecords() + " records; "
                    + loss.keptRecords() + " reached the disk");
        }
    }

    /** Delivers {@code message} (of group 1) right now, bypassing the network. */
    public void deliverNow(Message message) {
        group(1).deliverNow(message);
    }

    // ---- faults ----

    /**
     * Crashes store {@code id}: every replica's volatile state (Raft state, state machine, Readies
     * in flight) is lost; its WAL keeps what was durable. Like 6.824's crash1, this also
     * disconnects it.
     */
    public void crash(int id) {
        SimStore store = store(id);
        if (store.alive()) {
            trace("crash " + id);
            store.crash();
        }
        network.disconnect(id);
    }

    /** Restarts a crashed store from its durable WAL (6.824's start1); it stays disconnected until {@code connect}. */
    public void restart(int id) {
        SimStore store = store(id);
        if (store.alive()) {
            crash(id);
        }
        trace("restart " + id);
        store.start();
    }

    /** Freezes store {@code id} for {@code ticks} ticks (see {@link SimStore}). */
    public void pause(int id, long ticks) {
        SimStore store = store(id);
        if (store.running()) {
            trace("pause " + id + " for " + ticks + " ticks");
            stats.countPause();
            store.pause(ticks);
        }
    }

    /** Ends a pause of store {@code id} now (see {@link SimStore}). */
    public void resume(int id) {
        trace("resume " + id);
        store(id).resume();
    }

    public void connect(int id) {
        trace("connect " + id);
        network.connect(id);
    }

    public void disconnect(int id) {
        trace("disconnect " + id);
        network.disconnect(id);
    }

    public boolean alive(int id) {
        return store(id).alive();
    }

    // ---- client operations on group 1 (see SimGroup for any group) ----

    /**
     * 6.824's {@code Start(cmd)}: proposes {@code value} at store {@code id}'s replica of group 1.
     * When it is a live leader that accepts it, the result holds the index and term the entry got.
     */
    public Start start(int id, long value) {
        return group(1).start(id, value);
    }

    public Start start(int id, long value, int paddingBytes) {
        return group(1).start(id, value, paddingBytes);
    }

    public boolean proposeConfChange(int id, ConfChange change) {
        return group(1).proposeConfChange(id, change);
    }

    public void campaign(int id) {
        group(1).campaign(id);
    }

    /** See {@link SimGroup#readIndex}. */
    public long readIndex(int id) {
        return group(1).readIndex(id);
    }

    void onReadState(int id, long context, long index) {
        group(1).onReadState(id, context, index);
    }

    /** Reads confirmed in every group. */
    public long readsConfirmed() {
        long confirmed = 0;
        for (int group = 1; group <= options.groups(); group++) {
            confirmed += groups[group].readsConfirmed();
        }
        return confirmed;
    }

    public void transferLeader(int id, int target) {
        group(1).transferLeader(id, target);
    }

    // ---- observations of group 1 ----

    public boolean isLeader(int id) {
        return group(1).isLeader(id);
    }

    public long term(int id) {
        return group(1).term(id);
    }

    /** Live replicas of group 1 that think they are leader, in store id order. */
    public List<Integer> leaders() {
        return group(1).leaders();
    }

    /** Highest index any replica of group 1 applied. */
    public long highestAppliedIndex() {
        return group(1).highestAppliedIndex();
    }

    /** 6.824's {@code nCommitted(index)} in group 1: see {@link SimGroup#committedAt}. */
    public Committed committedAt(long index) {
        return group(1).committedAt(index);
    }

    /** The result of {@link #start}. */
    public record Start(long index, long term, boolean isLeader, long proposalId) {
        public static final Start REJECTED = new Start(-1, -1, false, 0);
    }

    /** The result of {@link #committedAt}. */
    public record Committed(int nodes, SimCommand command) {}
}
