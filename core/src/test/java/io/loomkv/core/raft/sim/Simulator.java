package io.loomkv.core.raft.sim;

import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Random;
import java.util.function.BooleanSupplier;

/**
 * A deterministic simulation of a Raft cluster: nodes {@code 1..N} driven through their Ready
 * loop, connected by a {@link SimNetwork} that loses, duplicates, delays and reorders messages and
 * can be partitioned, with crashes that lose whatever a node had not persisted, and
 * {@link SafetyChecker}'s invariants checked after every step.
 *
 * <h2>Time</h2>
 * Simulated time advances in ticks; one tick is {@value #MILLIS_PER_TICK} ms of simulated time.
 * In every tick the simulator first delivers the messages due (each delivery is a step), then
 * ticks every live node in id order (each a step). So 6.824's "a leader within one second" is
 * "a leader within 100 ticks", and its {@code time.Sleep(RaftElectionTimeout)} is 100 ticks.
 *
 * <h2>Determinism</h2>
 * Everything runs on the calling thread; all randomness comes from one {@link Random} seeded with
 * {@link SimOptions#seed()}; nodes, messages and events are visited in orders that depend only on
 * ids and sequence numbers (no hash-map iteration). The same seed therefore replays the same run,
 * and every failure message names the seed and how to replay it.
 */
public final class Simulator {

    public static final int MILLIS_PER_TICK = 10;

    /** Deliveries of zero-delay messages within one tick are bounded, so a message storm fails loudly. */
    private static final int MAX_DELIVERY_ROUNDS_PER_TICK = 10_000;

    private final SimOptions options;
    private final String replayHint;
    private final Random random;
    private final SimNetwork network;
    private final SafetyChecker checker;
    private final SimNode[] nodes;
    private long nowTick;
    private long nextProposalId = 1;
    private long stepsRun;
    private final List<TickHook> tickHooks = new ArrayList<>();
    /** Reads issued: context -> the highest index known committed when the read was issued. */
    private final Map<Long, Long> pendingReads = new HashMap<>();
    private final Set<Long> confirmedReads = new HashSet<>();
    private long nextReadContext = 1;
    private long readsConfirmed;

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
        this.options = options;
        this.replayHint = replayHint;
        this.random = new Random(options.seed());
        this.network = new SimNetwork(options.nodeCount(), random);
        this.checker = new SafetyChecker(this::fail);
        this.nodes = new SimNode[options.nodeCount() + 1];
        List<Long> voters = new ArrayList<>();
        for (long id = 1; id <= options.voterCount(); id++) {
            voters.add(id);
        }
        for (int id = 1; id <= options.nodeCount(); id++) {
            nodes[id] = new SimNode(id, this, voters);
        }
        for (int id = 1; id <= options.nodeCount(); id++) {
            nodes[id].start();
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

    public int nodeCount() {
        return options.nodeCount();
    }

    public long nowTick() {
        return nowTick;
    }

    public long stepsRun() {
        return stepsRun;
    }

    /** The run's only source of randomness; scenarios draw their random choices from it too. */
    public Random random() {
        return random;
    }

    public SimNetwork network() {
        return network;
    }

    SafetyChecker checker() {
        return checker;
    }

    public SimNode node(int id) {
        if (id < 1 || id > options.nodeCount()) {
            throw new IllegalArgumentException("node id must be in [1, " + options.nodeCount() + "], got " + id);
        }
        return nodes[id];
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
        int rounds = 0;
        while (network.hasDue(nowTick)) {
            if (++rounds > MAX_DELIVERY_ROUNDS_PER_TICK) {
                throw fail("more than " + MAX_DELIVERY_ROUNDS_PER_TICK + " delivery rounds in one tick: message storm");
            }
            for (Message message : network.takeDue(nowTick)) {
                SimNode target = nodes[(int) message.getTo()];
                if (target.alive()) {
                    trace("deliver " + SimTrace.describe(message));
                    target.step(message);
                    afterStep();
                }
            }
        }
        for (int id = 1; id <= options.nodeCount(); id++) {
            if (nodes[id].completeDuePersist()) {
                afterStep();
            }
        }
        for (int id = 1; id <= options.nodeCount(); id++) {
            boolean missesTick = id == 1 && options.slowClockSkipEveryTicks() > 0
                    && nowTick % options.slowClockSkipEveryTicks() == 0;
            if (nodes[id].alive() && !missesTick) {
                nodes[id].tick();
                afterStep();
            }
        }
        nowTick++;
    }

    /** Called after every input to a node, once its Readies are handled. */
    void afterStep() {
        stepsRun++;
        for (int id = 1; id <= options.nodeCount(); id++) {
            nodes[id].checkInvariants();
        }
    }

    void send(Message message) {
        network.send(message, nowTick);
    }

    /**
     * Delivers {@code message} right now, bypassing the network: for scenarios that place a
     * message the sender could have sent at an exact moment.
     */
    public void deliverNow(Message message) {
        SimNode target = node((int) message.getTo());
        if (target.alive()) {
            trace("deliver now " + SimTrace.describe(message));
            target.step(message);
            afterStep();
        }
    }

    // ---- faults ----

    /**
     * Crashes node {@code id}: its volatile state (Raft state, state machine, unhandled Ready) is
     * lost; its storage keeps what was persisted. Like 6.824's crash1, this also disconnects it.
     */
    public void crash(int id) {
        SimNode node = node(id);
        if (node.alive()) {
            trace("crash " + id);
            node.crash();
        }
        network.disconnect(id);
    }

    /** Restarts a crashed node from its storage (6.824's start1); it stays disconnected until {@code connect}. */
    public void restart(int id) {
        SimNode node = node(id);
        if (node.alive()) {
            crash(id);
        }
        trace("restart " + id);
        node.start();
        afterStep();
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
        return node(id).alive();
    }

    // ---- client operations ----

    /**
     * 6.824's {@code Start(cmd)}: proposes {@code value} at node {@code id}. When the node is a
     * live leader that accepts it, the result holds the index and term the entry got.
     */
    public Start start(int id, long value) {
        return start(id, value, 0);
    }

    public Start start(int id, long value, int paddingBytes) {
        SimNode node = node(id);
        if (!node.alive()) {
            return Start.REJECTED;
        }
        SimCommand command = new SimCommand(newProposalId(), value, paddingBytes);
        Start result = node.propose(command);
        afterStep();
        return result;
    }

    public boolean proposeConfChange(int id, ConfChange change) {
        SimNode node = node(id);
        if (!node.alive()) {
            return false;
        }
        boolean accepted = node.proposeConfChange(change);
        afterStep();
        return accepted;
    }

    /** Makes node {@code id} start an election now, as if its election timeout had passed. */
    public void campaign(int id) {
        SimNode node = node(id);
        if (node.alive()) {
            trace("campaign " + id);
            node.campaign();
            afterStep();
        }
    }

    /**
     * Asks node {@code id} for a linearizable read. When its ReadState arrives, its index must be
     * at least every index known to be committed now (else the read could miss a completed write).
     *
     * @return the read's context, or -1 if the node refused it
     */
    public long readIndex(int id) {
        SimNode node = node(id);
        if (!node.alive()) {
            return -1;
        }
        long context = nextReadContext++;
        pendingReads.put(context, checker.highestCommitIndexSeen());
        if (!node.readIndex(context)) {
            pendingReads.remove(context);
            return -1;
        }
        afterStep();
        return context;
    }

    void onReadState(int id, long context, long index) {
        // A duplicated request may be confirmed twice; each confirmation must still be safe.
        Long required = pendingReads.get(context);
        if (required == null) {
            throw fail("node " + id + " confirmed read " + context + " that was never issued (or was refused)");
        }
        if (index < required) {
            throw fail("linearizable read: node " + id + " confirmed read " + context + " at index " + index
                    + ", but index " + required + " was already committed when the read was issued");
        }
        if (confirmedReads.add(context)) {
            readsConfirmed++;
        }
    }

    public long readsConfirmed() {
        return readsConfirmed;
    }

    public void transferLeader(int id, int target) {
        SimNode node = node(id);
        if (node.alive()) {
            node.transferLeader(target);
            afterStep();
        }
    }

    // ---- observations ----

    public boolean isLeader(int id) {
        return node(id).alive() && node(id).isLeader();
    }

    public long term(int id) {
        return node(id).term();
    }

    /** Live nodes that think they are leader, in id order. */
    public List<Integer> leaders() {
        List<Integer> leaders = new ArrayList<>();
        for (int id = 1; id <= options.nodeCount(); id++) {
            if (isLeader(id)) {
                leaders.add(id);
            }
        }
        return leaders;
    }

    /** Highest index any node applied. */
    public long highestAppliedIndex() {
        return checker.highestAppliedIndex();
    }

    /**
     * 6.824's {@code nCommitted(index)}: how many nodes applied {@code index} (in any incarnation),
     * and the command there (null when none did, or when it holds no command).
     */
    public Committed committedAt(long index) {
        int count = 0;
        SimCommand command = null;
        for (int id = 1; id <= options.nodeCount(); id++) {
            if (nodes[id].hasApplied(index)) {
                count++;
                SimCommand mine = nodes[id].appliedCommand(index);
                if (command == null) {
                    command = mine;
                } else if (mine != null && !mine.equals(command)) {
                    throw fail("committed values do not match at index " + index + ": " + command + " vs " + mine);
                }
            }
        }
        return new Committed(count, command);
    }

    /** The result of {@link #start}. */
    public record Start(long index, long term, boolean isLeader, long proposalId) {
        public static final Start REJECTED = new Start(-1, -1, false, 0);
    }

    /** The result of {@link #committedAt}. */
    public record Committed(int nodes, SimCommand command) {}
}
