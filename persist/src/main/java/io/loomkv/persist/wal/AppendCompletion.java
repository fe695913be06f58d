package io.loomkv.persist.wal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Reports appends complete, in order, and wakes the threads waiting on them the cheapest way for
 * each kind of thread (writer thread only): platform waiters are unparked directly, virtual ones
 * through the waker or a relay (see {@link #completeAll}). Apart from {@link WalWriter} because
 * it is its own concern: how a group commit's waiters are woken.
 */
final class AppendCompletion {
    private final boolean virtualWriter;
    private final VirtualThreadWaker waker;

    AppendCompletion(boolean virtualWriter, VirtualThreadWaker waker) {
        this.virtualWriter = virtualWriter;
        this.waker = waker;
    }

    void completeAll(List<WalRequest.Append> appends) {
        // A platform writer hands virtual waiters to the waker (see VirtualThreadWaker). A virtual
        // writer unparks the first virtual waiter and hands it the others (WalTicket.handOverRelay):
        // unparked one by one from the writer, each would wake an idle sibling carrier that takes
        // that one appender and parks again (seen with perf sched: the two carriers alternating on
        // one CPU every ~25 us); the first waiter runs on the woken sibling while the writer's
        // carrier is still busy, so its unparks are plain pushes. In five alternating 5 s pairs
        // the rest of a round was 124-263 us against 129-405 us when the writer unparked each.
        List<Thread> virtualWaiters = null;
        WalTicket relayTicket = null;
        Thread relayWaiter = null;
        for (WalRequest.Append append : appends) {
            Thread waiter = append.completeDurable();
            if (waiter == null) {
                continue;
            }
            if (waiter.isVirtual() && !virtualWriter) {
                if (virtualWaiters == null) {
                    virtualWaiters = new ArrayList<>(appends.size());
                }
                virtualWaiters.add(waiter);
            } else if (waiter.isVirtual()) {
                if (relayWaiter == null) {
                    relayTicket = append.ticket();
                    relayWaiter = waiter;
                    virtualWaiters = new ArrayList<>(appends.size());
                } else {
                    virtualWaiters.add(waiter);
                }
            } else {
                LockSupport.unpark(waiter);
            }
        }
        if (relayWaiter != null) {
            if (!virtualWaiters.isEmpty() && !relayTicket.handOverRelay(virtualWaiters)) {
                virtualWaiters.forEach(LockSupport::unpark);
            }
            LockSupport.unpark(relayWaiter);
            virtualWaiters = null;
        }
        if (virtualWaiters != null) {
            waker.unparkAll(virtualWaiters);
        }
    }
}
