package io.loomkv.core.kv.sim;

import io.loomkv.core.kv.KvSimMachine;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.raft.sim.SimMachine;
import io.loomkv.core.raft.sim.SimReplica;
import io.loomkv.core.raft.sim.Simulator;

/**
 * One command proposed at one store's replica of a group, awaited the way the server's proposer
 * awaits it: the entry at the index it got, of the term it got, applied by that same replica. A
 * crash of the store, another entry at that index, or a timeout loses it; the caller then retries
 * the same command (sessions make the retry exactly-once).
 */
final class SimProposal {

    enum Outcome { PENDING, DONE, LOST }

    private final Simulator sim;
    private final int simGroup;
    private final int storeId;
    private final long incarnation;
    private final long index;
    private final long term;
    private final long deadlineTick;
    private KvReply reply;

    private SimProposal(Simulator sim, int simGroup, int storeId, Simulator.Start start, long deadlineTick) {
        this.sim = sim;
        this.simGroup = simGroup;
        this.storeId = storeId;
        this.incarnation = sim.store(storeId).incarnation();
        this.index = start.index();
        this.term = start.term();
        this.deadlineTick = deadlineTick;
    }

    /** Proposes {@code command} at store {@code storeId}'s replica of {@code simGroup}; null when it does not take it (not the leader, down). */
    static SimProposal propose(Simulator sim, int simGroup, int storeId, Command command, long timeoutTicks) {
        Simulator.Start start = sim.group(simGroup).propose(storeId,
                CommandBatch.newBuilder().addCommands(command).build().toByteString());
        return start.isLeader() ? new SimProposal(sim, simGroup, storeId, start, sim.nowTick() + timeoutTicks) : null;
    }

    int storeId() {
        return storeId;
    }

    Outcome poll() {
        if (reply != null) {
            return Outcome.DONE;
        }
        SimReplica replica = sim.store(storeId).replica(simGroup);
        SimMachine machine = replica.machine();
        if (machine == null || replica.incarnation() != incarnation) {
            return Outcome.LOST;
        }
        if (machine.appliedIndex() >= index) {
            KvSimMachine.AppliedEntry applied = ((KvSimMachine) machine).applied(index);
            if (applied == null || applied.term() != term || applied.replies().size() != 1) {
                return Outcome.LOST;
            }
            reply = applied.replies().get(0);
            return Outcome.DONE;
        }
        return sim.nowTick() >= deadlineTick ? Outcome.LOST : Outcome.PENDING;
    }

    KvReply reply() {
        return reply;
    }
}
