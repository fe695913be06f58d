package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import io.loomkv.net.rpc.DeferredUnparks;
import io.loomkv.net.rpc.ReentryLoops;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of the store's few Raft worker threads: runs the turns of the replicas that have work, in
 * the order they asked, and flushes the peer transport after a round (so what the round produced
 * for each store leaves in one frame). A replica is always run by the same worker, so its turns
 * never overlap (see {@link ReplicaScheduler}).
 *
 * <p>The ready queue is unbounded in type but bounded in fact: a replica is in it at most once
 * (its scheduled flag), so it never holds more than the replicas assigned to this worker.
 */
final class RaftWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RaftWorker.class);
    /** Turns between two flushes when replicas keep coming: bounds how long a message waits in an outbox. */
    static final int TURNS_PER_FLUSH = 32;

    private final String name;
    private final StoreTransport transport;
    /** Turns run and passes ended in a flush: turns per pass is how much one flush batches. */
    private final CounterDataPoint turns;
    private final CounterDataPoint passes;
    private final MpscUnboundedXaddArrayQueue<Replica> ready = new MpscUnboundedXaddArrayQueue<>(256);
    private volatile Thread thread;
    private volatile boolean running = true;
    /** This worker's deferred wake-ups of apply threads and connection writers, released by every flush. */
    private DeferredUnparks wakes;

    RaftWorker(String name, StoreTransport transport, CounterDataPoint turns, CounterDataPoint passes) {
        this.name = name;
        this.transport = transport;
        this.turns = turns;
        this.passes = passes;
    }

    void start() {
        thread = Thread.ofVirtual().name(name).start(LogContext.inheritNode(this));
    }

    /** Queues a replica that was just marked scheduled. */
    void enqueue(Replica replica) {
        ready.offer(replica);
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        // The apply threads are woken once per pass, with the committed entries of every group it turned.
        wakes = DeferredUnparks.openForCurrentThread();
        int turnsSinceFlush = 0;
        try {
            while (running) {
                turnsSinceFlush = turnSome(turnsSinceFlush); // Bounded batches, see ReentryLoops.
            }
        } finally {
            wakes.release();
        }
    }

    /** Up to {@link ReentryLoops#ITERATIONS_PER_CALL} steps of the worker's loop; returns the turns not yet flushed. */
    private int turnSome(int turnsNotFlushed) {
        int turnsSinceFlush = turnsNotFlushed;
        for (int i = 0; i < ReentryLoops.ITERATIONS_PER_CALL && running; i++) {
            Replica replica = ready.poll();
            if (replica == null) {
                if (turnsSinceFlush > 0) {
                    flush(turnsSinceFlush);
                    turnsSinceFlush = 0;
                }
                wakes.release(); // Nothing deferred may wait for our next turn.
                if (ready.isEmpty() && running) {
                    LockSupport.park(this);
                    // Woken by the first replica with work: the connection readers and WAL
                    // completions made runnable with it deliver their inputs first, so the pass
                    // turns each replica once with more of them and its flush carries more
                    // messages per frame. 16 groups on 3 stores, alternated: 8% fewer turns and
                    // 16% fewer passes per request, 14-18% more throughput; one group no slower
                    // (docs/performance.md, "Raft workers: yield, and one worker").
                    Thread.yield();
                }
                continue;
            }
            replica.clearScheduled();
            LogContext.enterGroup(replica.groupId());
            try {
                replica.runTurn();
            } catch (RuntimeException | Error e) {
                // A replica's own failures are handled in its turn; this is a bug, and it must not take the worker down.
                LOG.error("{}: turn of group {} failed", name, replica.groupId(), e);
            } finally {
                LogContext.leaveGroup();
            }
            if (++turnsSinceFlush >= TURNS_PER_FLUSH) {
                flush(turnsSinceFlush);
                turnsSinceFlush = 0;
            }
        }
        return turnsSinceFlush;
    }

    private void flush(int turnsInPass) {
        transport.flush();
        wakes.release();
        turns.inc(turnsInPass);
        passes.inc();
    }

    void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    void join() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join();
        }
    }
}
