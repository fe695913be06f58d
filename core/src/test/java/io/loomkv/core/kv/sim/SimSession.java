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
 * outcome: after a lost proposal, at the group its router names after a {@code WRONG_GROUP}, and
 * later after an {@code UNAVAILABLE} (a slot being pulled). Driven by {@link #tick()}.
 */
final class SimSession {

    /** A proposal not applied within 3 s of simulated time is retried. */
    private static final long PROPOSAL_TIMEOUT_TICKS = Simulator.ticksForMillis(3_000);
    /** The log clock the clients stamp: simulated time after this base, so timestamps are positive. */
    static final long CLOCK_BASE_MILLIS = 1_000_000;

    private final Simulator sim;
    private final String name;
    private final ShardedFault fault;
    private final long homeGroup;
    private long clientId;
    private long nextSequence = 1;
    private SimProposal proposal;
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
    }

    /** The sequence the next {@link #write} gets. */
    long nextSequence() {
        return nextSequence;
    }

    void tick() {
        if (sim.nowTick() < wakeTick || (open() && op == null)) {
            return;
        }
        if (proposal == null) {
            Command command = open() ? op.setTimestampMillis(now()).setClientId(clientId).setSequence(sequence)
                    .setAcknowledgedBelow(sequence).build()
                    : Command.newBuilder().setTimestampMillis(now()).setOpenSession(OpenSession.getDefaultInstance()).build();
            long group = open() ? targetGroup : homeGroup;
            attempts++;
            proposal = SimProposal.propose(sim, (int) group + 1, command, PROPOSAL_TIMEOUT_TICKS);
            if (proposal == null) {
                wakeTick = sim.nowTick() + 5;
            }
            return;
        }
        switch (proposal.poll()) {
            case PENDING -> { }
            case LOST -> {
                proposal = null;
                if (fault == ShardedFault.RETRY_WITH_NEW_SEQUENCE && open()) {
                    sequence = nextSequence++;
                }
            }
            case DONE -> done(proposal.reply());
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
