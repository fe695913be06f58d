package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import io.loomkv.net.rpc.DeferredUnparks;
import io.loomkv.net.rpc.ReentryLoops;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscUnboundedXaddArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One of the store's apply threads: applies the queued work of the replicas that have some, one
 * replica at a time, always the same replicas (picked by group id), so each group's entries are
 * applied in log order. A platform thread: applying is CPU-bound and would hold a carrier that the
 * Raft workers and the connections need.
 */
final class ApplyWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ApplyWorker.class);
    /**
     * Appliers run before the wake-ups of the connection writers they answered on are released:
     * bounds how long a reply waits for the rest of the pass (a run is at most
     * {@link ReplicaApplier#MAX_TASKS_PER_RUN} tasks).
     */
    static final int APPLIERS_PER_RELEASE = 16;

    private final MpscUnboundedXaddArrayQueue<ReplicaApplier> ready = new MpscUnboundedXaddArrayQueue<>(256);
    private final Thread thread;
    private volatile boolean running = true;

    ApplyWorker(String name) {
        this.thread = Thread.ofPlatform().name(name).daemon().unstarted(LogContext.inheritNode(this));
    }

    void start() {
        thread.start();
    }

    /** Queues an applier; a Raft worker's wake-up of this thread waits for the end of its pass (see {@link DeferredUnparks}). */
    void enqueue(ReplicaApplier applier) {
        ready.offer(applier);
        DeferredUnparks.unpark(thread);
    }

    @Override
    public void run() {
        // The replies of every group applied in one pass leave in one write per connection.
        DeferredUnparks wakes = DeferredUnparks.openForCurrentThread();
        try {
            while (running) {
                applySome(wakes); // Bounded batches, see ReentryLoops.
            }
        } finally {
            wakes.release();
        }
    }

    private void applySome(DeferredUnparks wakes) {
        int appliersSinceRelease = 0;
        for (int i = 0; i < ReentryLoops.ITERATIONS_PER_CALL && running; i++) {
            ReplicaApplier applier = ready.poll();
            if (applier == null) {
                wakes.release();
                appliersSinceRelease = 0;
                if (ready.isEmpty() && running) {
                    LockSupport.park(this);
                }
                continue;
            }
            if (++appliersSinceRelease > APPLIERS_PER_RELEASE) {
                wakes.release();
                appliersSinceRelease = 1;
            }
            applier.clearScheduled();
            LogContext.enterGroup(applier.groupId());
            try {
                applier.runTasks();
            } catch (RuntimeException | Error e) {
                LOG.error("apply of group {} failed outside its own handling", applier.groupId(), e);
            } finally {
                LogContext.leaveGroup();
            }
        }
    }

    void stop() {
        running = false;
        LockSupport.unpark(thread);
    }

    void join() throws InterruptedException {
        if (thread.getState() != Thread.State.NEW) {
            thread.join();
        }
    }
}
