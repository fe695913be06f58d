package io.loomkv.core.kv.sim;

import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.sim.Simulator;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;

/**
 * A sequential client session of the sharded simulation, as {@code KvStateMachine} requires one:
 * it opens a session at its home group, then sends one numbered write at a time
 * ({@code acknowledged_below} = its sequence), retrying the same sequence until it has the write's
 * outcome: after a lost request, proposal or answer, at the group its router names after a
 * {@code WRONG_GROUP}, and later after an {@code UNAVAILABLE} (a slot being pulled). Requests and
 * answers cross the simulated network (lost when the store is disconnected or by the network's
 * drop rate, delayed by its delays), so a write the group applied may well be sent again.
 * Driven by {@link #tick()}.
 */
final class SimSession {

    /** A proposal not applied within 3 s of simulated time is retried. */
    private static final long PROPOSAL_TIMEOUT_TICKS = Simulator.ticksForMillis(3_000);
    /** A client that sent a request and heard nothing for 500 ms sends it again. */
    static final long ANSWER_TIMEOUT_TICKS = Simulator.ticksForMillis(500);
    /** The log clock the clients stamp: simulated time after this base, so timestamps are positive. */
    static final long CLOCK_BASE_MILLIS = 1_000_000;

    private final Simulator sim;
    private final String name;
    private final ShardedFault fault;
    private final long homeGroup;
    private long clientId;
    private long nextSequence = 1;
    private SimProposal proposal;
    /** The store a request is travelling to (0: none), and when it arrives. */
    private int requestStore;
    private long requestArrivalTick;
    /** An answer travelling back (null: none), and when it arrives. */
    private KvReply replyInFlight;
    private long replyArrivalTick;
    private long wakeTick;
    // The write in flight (none when op is null).
    private Command.Builder op;
    private long sequence;
    private long targetGroup;
    private LongUnaryOperator router;
    private Consumer<KvReply> onOutcome;
    private long attempts;
    private long wrongGroupReplies;
    private long unavailableReplies;
    /** The clock of the store a write reaches, which stamps it as the leader does (the simulated time unless skewed). */
    private java.util.function.IntToLongFunction stampClock = store -> now();
    /** The smallest stamp any copy of the write in flight (or last done) was proposed with. */
    private long minStampMillis = Long.MAX_VALUE;

    /** A session to open at KV group {@code homeGroup} (0: the controller). */
    SimSession(Simulator sim, String name, long homeGroup) {
        this(sim, name, homeGroup, ShardedFault.NONE);
    }

    SimSession(Simulator sim, String name, long homeGroup, ShardedFault fault) {
        this.sim = sim;
        this.fault = fault;
        this.name = name;
        this.homeGroup = homeGroup;
    }

    boolean open() {
        return clientId != 0;
    }

    /** Stamps writes with the clock of the store they reach (each store's clock may be skewed). */
    SimSession withStampClock(java.util.function.IntToLongFunction clock) {
        this.stampClock = clock;
        return this;
    }

    /** The smallest timestamp any copy of the current (or last) write was proposed with. */
    long minStampMillis() {
        return minStampMillis;
    }

    /** Open and no write in flight. */
    boolean idle() {
        return open() && op == null;
    }

    long clientId() {
        return clientId;
    }

    /** Proposals tried (also those no leader took). */
    long attempts() {
        return attempts;
    }

    long wrongGroupReplies() {
        return wrongGroupReplies;
    }

    long unavailableReplies() {
        return unavailableReplies;
    }

    /**
     * Sends {@code operation} (no envelope) as the next write. {@code router} maps the group that
     * refused it with WRONG_GROUP (-1 for the first try) to the group to try next; the write's
     * outcome goes to {@code onOutcome}: OK, or a refusal cached for its sequence.
     */
    void write(Command.Builder operation, LongUnaryOperator router, Consumer<KvReply> onOutcome) {
        if (!idle()) {
            throw new IllegalStateException(name + " is not idle");
        }
        this.op = operation;
        this.sequence = nextSequence++;
        this.router = router;
        this.targetGroup = router.applyAsLong(-1);
        this.onOutcome = onOutcome;
        this.minStampMillis = Long.MAX_VALUE;
    }

    /** The sequence the next {@link #write} gets. */
    long nextSequence() {
        return nextSequence;
    }

    void tick() {
        long now = sim.nowTick();
        if (now < wakeTick || (open() && op == null)) {
            return;
        }
        if (replyInFlight != null) {
            if (now >= replyArrivalTick) {
                KvReply reply = replyInFlight;
                replyInFlight = null;
                done(reply);
            }
            return;
        }
        if (requestStore != 0) {
            if (now >= requestArrivalTick) {
                arrive();
            }
            return;
        }
        if (proposal == null) {
            send();
            return;
        }
        switch (proposal.poll()) {
            case PENDING -> { }
            case LOST -> lost();
            case DONE -> {
                // The answer travels back; a lost one is noticed only by the client's timeout.
                long delay = sim.network().callLegDelayTicks(proposal.storeId(), proposal.storeId(), false);
                if (delay < 0) {
                    wakeTick = now + ANSWER_TIMEOUT_TICKS;
                    lost();
                } else {
                    replyInFlight = proposal.reply();
                    replyArrivalTick = now + delay;
                    proposal = null;
                }
            }
        }
    }

    /**
     * Sends the write (or the open_session) to the leader of its group over the network: lost or
     * delayed like any message when the store is cut off or the network is unreliable. (The leader
     * is found as a client's NOT_LEADER hints would find it.)
     */
    private void send() {
        long group = open() ? targetGroup : homeGroup;
        int leader = sim.group((int) group + 1).newestLeader();
        attempts++;
        long delay = leader == 0 ? -1 : sim.network().callLegDelayTicks(leader, leader, true);
        if (delay < 0) {
            wakeTick = sim.nowTick() + (leader == 0 ? 5 : ANSWER_TIMEOUT_TICKS);
            return;
        }
        requestStore = leader;
        requestArrivalTick = sim.nowTick() + delay;
    }

    /** The request reached its store: proposed there if it still leads (a retry of the same sequence otherwise). */
    private void arrive() {
        int store = requestStore;
        requestStore = 0;
        long group = open() ? targetGroup : homeGroup;
        long stamp = stampClock.applyAsLong(store);
        Command command = open() ? op.setTimestampMillis(stamp).setClientId(clientId).setSequence(sequence)
                .setAcknowledgedBelow(sequence).build()
                : Command.newBuilder().setTimestampMillis(stamp).setOpenSession(OpenSession.getDefaultInstance()).build();
        if (open()) {
            minStampMillis = Math.min(minStampMillis, stamp);
        }
        proposal = sim.network().linkUp(store, store)
                ? SimProposal.propose(sim, (int) group + 1, store, command, PROPOSAL_TIMEOUT_TICKS) : null;
        if (proposal == null) {
            wakeTick = sim.nowTick() + 5;
        }
    }

    private void lost() {
        proposal = null;
        if (fault == ShardedFault.RETRY_WITH_NEW_SEQUENCE && open()) {
            sequence = nextSequence++;
        }
    }

    private void done(KvReply reply) {
        proposal = null;
        if (!open()) {
            if (reply.getStatus() != Status.OK) {
                throw sim.fail(name + " could not open a session at group " + homeGroup + ": " + reply.getStatus() + " "
                        + reply.getMessage());
            }
            clientId = reply.getOpenSession().getClientId();
            return;
        }
        if (reply.getStatus() == Status.WRONG_GROUP) {
            wrongGroupReplies++;
            targetGroup = router.applyAsLong(targetGroup);
            wakeTick = sim.nowTick() + 5;
            return;
        }
        if (reply.getStatus() == Status.UNAVAILABLE) {
            unavailableReplies++;
            wakeTick = sim.nowTick() + 10;
            return;
        }
        Consumer<KvReply> outcome = onOutcome;
        op = null;
        outcome.accept(reply);
    }

    private long now() {
        return CLOCK_BASE_MILLIS + sim.nowTick() * Simulator.MILLIS_PER_TICK;
    }
}
