package io.loomkv.net.node;

import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.Status;
import io.loomkv.core.raft.proto.ConfState;
import java.util.function.LongPredicate;

/**
 * Whether a replica is quiet: it gets no ticks, so it sends no heartbeats and starts no elections
 * (CockroachDB's quiescence, TiKV's hibernate regions). Without it a store with 1,000 groups does
 * 20,000 replica turns a second and its leaders send 40,000 heartbeats, doing nothing.
 *
 * <p>A leader goes quiet once nothing happened for {@link #quiesceAfterTicks} ticks and every
 * follower on a live store has its whole log (and a quorum has), and tells those followers; a
 * follower goes quiet on that notice if its log matches. A follower on a dead store does not keep
 * the group awake (tikv#19070: with one store of three down, leaders refused to hibernate and
 * heartbeat CPU exploded); its leader is woken when the store comes back, to catch it up.
 *
 * <p>Anything wakes a quiet replica: a message, a request, the store's liveness saying the
 * leader's store died (then the followers elect a new leader), or a dead follower's store coming
 * back. A woken leader does not serve lease reads until it has been awake for a full election
 * timeout: its lease, counted in ticks, did not age while it slept, but time did.
 *
 * <p>{@link #quiet} and the wake flag are touched by any thread; the counters only by the
 * replica's turns.
 */
final class Quiescence {
    private final long quiesceAfterTicks;
    private final int electionTimeoutTicks;
    private volatile boolean quiet;
    private volatile boolean wokeFromQuiet;
    private long idleTicks;
    private long awakeTicks;
    private long lastIndexSeen = -1;

    Quiescence(long quiesceAfterTicks, int electionTimeoutTicks) {
        if (quiesceAfterTicks < 1) {
            throw new IllegalArgumentException("quiesceAfterTicks must be positive, got " + quiesceAfterTicks);
        }
        this.quiesceAfterTicks = quiesceAfterTicks;
        this.electionTimeoutTicks = electionTimeoutTicks;
    }

    boolean isQuiet() {
        return quiet;
    }

    /** Any thread: there is work. Returns whether the replica was quiet (the caller puts it back on the ticker). */
    boolean wake() {
        if (!quiet) {
            return false;
        }
        quiet = false;
        wokeFromQuiet = true;
        return true;
    }

    /** The replica's turn: it stops ticking from now on. */
    void goQuiet() {
        quiet = true;
        idleTicks = 0;
    }

    /** Whether a leader's lease may serve reads: awake for a full election timeout since it last slept. */
    boolean leaseUsable() {
        return awakeTicks >= electionTimeoutTicks;
    }

    /**
     * The turn: whether the replica was woken from quiet since the last turn (then its lease and
     * its tick clock start afresh). Clears the flag.
     */
    boolean takeWake() {
        if (!wokeFromQuiet) {
            return false;
        }
        wokeFromQuiet = false;
        awakeTicks = 0;
        return true;
    }

    /** Counts the ticks a turn delivered. */
    void onTicks(long ticks) {
        awakeTicks += ticks;
    }

    /**
     * After a leader's turn that delivered {@code ticks}: whether it should go quiet now.
     *
     * @param busy whether requests, reads or a persist are still pending
     * @param storeLive whether a store is live now
     */
    boolean leaderShouldQuiesce(Status status, long appliedIndex, long ticks, boolean busy, LongPredicate storeLive) {
        if (status.role() != Role.LEADER || busy || !settled(status, appliedIndex, storeLive)) {
            idleTicks = 0;
            lastIndexSeen = status.lastIndex();
            return false;
        }
        if (status.lastIndex() != lastIndexSeen) {
            idleTicks = 0;
            lastIndexSeen = status.lastIndex();
            return false;
        }
        idleTicks += ticks;
        return idleTicks >= quiesceAfterTicks;
    }

    /**
     * Everything committed and applied, no transfer or joint configuration in progress, no learner
     * catching up, every voter on a live store holding the whole log, and those a quorum.
     */
    private static boolean settled(Status status, long appliedIndex, LongPredicate storeLive) {
        long last = status.lastIndex();
        ConfState conf = status.confState();
        if (status.commitIndex() != last || appliedIndex != last || status.leadTransferee() != 0
                || conf.getVotersOutgoingCount() > 0 || conf.getLearnersCount() > 0) {
            return false;
        }
        int caughtUp = 0;
        for (long voter : conf.getVotersList()) {
            if (voter == status.id()) {
                caughtUp++;
                continue;
            }
            Status.FollowerProgress progress = status.progress().get(voter);
            boolean hasAll = progress != null && progress.match() == last;
            if (hasAll) {
                caughtUp++;
            } else if (storeLive.test(voter)) {
                return false; // A live follower is behind: keep replicating.
            }
        }
        return caughtUp > conf.getVotersCount() / 2;
    }

    /**
     * Whether a follower may go quiet on its leader's notice: same term, same leader, and its log
     * ends where the leader's does, all of it committed.
     */
    static boolean followerMayQuiesce(Status status, long from, long noticeTerm, long noticeLastIndex) {
        return status.role() == Role.FOLLOWER && status.leaderId() == from && status.term() == noticeTerm
                && status.lastIndex() == noticeLastIndex && status.commitIndex() == noticeLastIndex;
    }
}
