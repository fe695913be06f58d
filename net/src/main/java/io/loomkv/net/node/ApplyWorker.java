package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
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

    private final MpscUnboundedXaddArrayQueue<ReplicaApplier> ready = new MpscUnboundedXaddArrayQueue<>(256);
    private final Thread thread;
    private volatile boolean running = true;

    ApplyWorker(String name) {
        this.thread = Thread.ofPlatform().name(name).daemon().unstarted(LogContext.inheritNode(this));
    }

    void start() {
        thread.start();
    }

    void enqueue(ReplicaApplier applier) {
        ready.offer(applier);
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (running) {
            applySome(); // Bounded batches, see ReentryLoops.
        }
    }

    private void applySome() {
        for (int i = 0; i < ReentryLoops.ITERATIONS_PER_CALL && running; i++) {
            ReplicaApplier applier = ready.poll();
            if (applier == null) {
                if (ready.isEmpty() && running) {
                    LockSupport.park(this);
                }
                continue;
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
