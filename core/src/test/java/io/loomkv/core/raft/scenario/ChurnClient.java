package io.loomkv.core.raft.scenario;

import io.loomkv.core.raft.sim.LabHarness;
import io.loomkv.core.raft.sim.Simulator;
import java.util.ArrayList;
import java.util.List;

/**
 * One client goroutine of 6.824's churn tests, as a tick hook: it offers a random value to every
 * server, and when one accepted it, checks after 0, 10, 30, 80 and 180 ms whether the index it got
 * was committed with that value; otherwise it sleeps {@code 79 + me * 17} ms and tries again.
 */
final class ChurnClient implements Simulator.TickHook {

    private static final long[] CHECK_DELAYS_MILLIS = {10, 20, 50, 100, 200};

    private final LabHarness cfg;
    private final int me;
    private final List<Long> committedValues = new ArrayList<>();
    private boolean stopRequested;
    private boolean stopped;
    private long wakeTick;
    private long index = -1;
    private long value;
    private int checks;

    ChurnClient(LabHarness cfg, int me) {
        this.cfg = cfg;
        this.me = me;
    }

    void stop() {
        stopRequested = true;
    }

    boolean stopped() {
        return stopped;
    }

    List<Long> committedValues() {
        return committedValues;
    }

    @Override
    public boolean onTick() {
        long now = cfg.sim().nowTick();
        if (now < wakeTick) {
            return true;
        }
        if (index == -1) {
            if (stopRequested) {
                stopped = true;
                return false;
            }
            offer(now);
        } else {
            check(now);
        }
        return true;
    }

    private void offer(long now) {
        value = cfg.rand();
        for (int server = 0; server < cfg.servers(); server++) {
            Simulator.Start start = cfg.start(server, value);
            if (start.isLeader()) {
                index = start.index();
            }
        }
        if (index == -1) {
            wakeTick = now + Simulator.ticksForMillis(79 + me * 17L);
        } else {
            checks = 0;
            check(now);
        }
    }

    private void check(long now) {
        Simulator.Committed committed = cfg.nCommitted(index);
        if (committed.nodes() > 0) {
            if (committed.command() != null && committed.command().value() == value) {
                committedValues.add(value);
            }
            index = -1;
            return;
        }
        if (checks == CHECK_DELAYS_MILLIS.length) {
            index = -1;
            return;
        }
        wakeTick = now + Simulator.ticksForMillis(CHECK_DELAYS_MILLIS[checks++]);
    }
}
