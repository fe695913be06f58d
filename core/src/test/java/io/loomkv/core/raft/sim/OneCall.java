package io.loomkv.core.raft.sim;

/**
 * 6.824's {@code one(cmd, expectedServers, retry)} run as a concurrent client: a tick hook that
 * looks for a leader, submits, waits up to 2 s for agreement, and retries (if asked) until 10 s
 * have passed. Several can run at once, as the goroutines of UnreliableAgree do.
 */
public final class OneCall implements Simulator.TickHook {

    private enum Phase { FIND_LEADER, AWAIT_AGREEMENT, DONE, FAILED }

    private final LabHarness cfg;
    private final long command;
    private final int expectedServers;
    private final boolean retry;
    private final long deadlineTick;
    private Phase phase = Phase.FIND_LEADER;
    private long wakeTick;
    private long agreementDeadlineTick;
    private long index = -1;
    private int starts;
    private String failure;

    OneCall(LabHarness cfg, long command, int expectedServers, boolean retry) {
        this.cfg = cfg;
        this.command = command;
        this.expectedServers = expectedServers;
        this.retry = retry;
        this.deadlineTick = cfg.sim().nowTick() + Simulator.ticksForMillis(10_000);
    }

    public boolean done() {
        return phase == Phase.DONE || phase == Phase.FAILED;
    }

    /** The index agreed on; fails the run if the call failed or is still running. */
    public long index() {
        if (phase != Phase.DONE) {
            throw cfg.sim().fail(failure != null ? failure : "one(" + command + ") has not finished");
        }
        return index;
    }

    @Override
    public boolean onTick() {
        long now = cfg.sim().nowTick();
        if (done()) {
            return false;
        }
        if (now >= deadlineTick) {
            fail("one(" + command + ") failed to reach agreement on " + expectedServers + " servers in 10 s");
            return false;
        }
        if (now < wakeTick) {
            return true;
        }
        if (phase == Phase.FIND_LEADER) {
            findLeader(now);
        } else {
            awaitAgreement(now);
        }
        return !done();
    }

    private void findLeader(long now) {
        for (int tries = 0; tries < cfg.servers(); tries++) {
            starts = (starts + 1) % cfg.servers();
            if (cfg.connected(starts) && cfg.alive(starts)) {
                Simulator.Start result = cfg.start(starts, command);
                if (result.isLeader()) {
                    index = result.index();
                    phase = Phase.AWAIT_AGREEMENT;
                    agreementDeadlineTick = now + Simulator.ticksForMillis(2_000);
                    return;
                }
            }
        }
        wakeTick = now + Simulator.ticksForMillis(50);
    }

    private void awaitAgreement(long now) {
        Simulator.Committed committed = cfg.nCommitted(index);
        if (committed.nodes() > 0 && committed.nodes() >= expectedServers && committed.command() != null
                && committed.command().value() == command) {
            phase = Phase.DONE;
        } else if (now >= agreementDeadlineTick) {
            if (retry) {
                phase = Phase.FIND_LEADER;
            } else {
                fail("one(" + command + ") failed to reach agreement on " + expectedServers + " servers");
            }
        }
    }

    private void fail(String message) {
        phase = Phase.FAILED;
        failure = message;
    }
}
