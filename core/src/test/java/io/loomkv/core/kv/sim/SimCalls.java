package io.loomkv.core.kv.sim;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.raft.sim.SimStore;
import io.loomkv.core.raft.sim.Simulator;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Calls between stores outside Raft (the migration driver's reads of other groups, the server's
 * {@code NodeMethods.MIGRATION}) over the simulated network: each leg is lost, delayed or
 * reordered under the network's current faults and partitions, a call to a store that is down or
 * paused when it arrives gets no answer, and an answer reaches only the caller's incarnation that
 * asked (a restarted store has forgotten its calls). Delivered by a tick hook, in (tick, sequence) order.
 */
final class SimCalls implements Simulator.TickHook {

    /** A bound on calls in flight, so a runaway driver fails loudly. */
    private static final int MAX_IN_FLIGHT = 10_000;

    private record Leg(long dueTick, long sequence, int from, int to, long callerIncarnation,
            IntFunction<KvReply> serve, KvReply reply, Consumer<KvReply> onReply) {}

    private final Simulator sim;
    private final PriorityQueue<Leg> inFlight = new PriorityQueue<>(
            Comparator.comparingLong(Leg::dueTick).thenComparingLong(Leg::sequence));
    private long nextSequence;
    private long callsAnswered;

    SimCalls(Simulator sim) {
        this.sim = sim;
    }

    /**
     * Store {@code from} asks store {@code to}: {@code serve} runs there when the request arrives
     * (given the store id; a null reply is no answer), and {@code onReply} at the caller when the answer arrives.
     */
    void call(int from, int to, IntFunction<KvReply> serve, Consumer<KvReply> onReply) {
        long delay = sim.network().callLegDelayTicks(from, to, true);
        if (delay >= 0) {
            enqueue(new Leg(sim.nowTick() + delay, nextSequence++, from, to, sim.store(from).incarnation(), serve, null,
                    onReply));
        }
    }

    long callsAnswered() {
        return callsAnswered;
    }

    @Override
    public boolean onTick() {
        while (!inFlight.isEmpty() && inFlight.peek().dueTick() <= sim.nowTick()) {
            Leg leg = inFlight.poll();
            if (!sim.network().linkUp(leg.from(), leg.to())) {
                continue;
            }
            if (leg.serve() != null) {
                answer(leg);
            } else {
                SimStore caller = sim.store(leg.to());
                if (caller.running() && caller.incarnation() == leg.callerIncarnation()) {
                    callsAnswered++;
                    leg.onReply().accept(leg.reply());
                }
            }
        }
        return true;
    }

    private void answer(Leg request) {
        if (!sim.store(request.to()).running()) {
            return;
        }
        KvReply reply = request.serve().apply(request.to());
        long delay = sim.network().callLegDelayTicks(request.to(), request.from(), false);
        if (reply != null && delay >= 0) {
            enqueue(new Leg(sim.nowTick() + delay, nextSequence++, request.to(), request.from(),
                    request.callerIncarnation(), null, reply, request.onReply()));
        }
    }

    private void enqueue(Leg leg) {
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            throw sim.fail("more than " + MAX_IN_FLIGHT + " store-to-store calls in flight");
        }
        inFlight.add(leg);
    }
}
