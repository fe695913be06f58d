package io.loomkv.tools.chaos;

/** The faults a chaos run injects; each is injected, held for a while, then healed. */
public enum FaultKind {
    /** SIGKILL the leader; restart it when healed. */
    KILL_LEADER,
    /** SIGKILL a random member; restart it when healed. */
    KILL_RANDOM,
    /** SIGSTOP a member (the leader half of the time); SIGCONT when healed. */
    PAUSE,
    /**
     * SIGSTOP the leader and cut it off from every peer; once the others elected a new leader,
     * SIGCONT it: it wakes up believing it still leads, reachable only by clients (a long GC
     * pause during a network split).
     */
    PAUSE_LEADER_WAKE_ISOLATED,
    /** Cut the members into a majority and a minority, both directions. */
    PARTITION_MAJORITY_MINORITY,
    /** Cut the leader off from every other member, both directions. */
    PARTITION_LEADER_ISOLATED,
    /** Two halves that cannot reach each other, and one member that reaches both. */
    PARTITION_BRIDGE,
    /** The leader hears everyone, but nothing it sends arrives. */
    PARTITION_ONE_WAY,
    /** Every peer frame held back 0..N ms. */
    DELAY,
    /** A share of all peer frames lost. */
    DROP,
    /** Add a new member under load (learner, then voter once caught up), then remove it. */
    MEMBER_CHANGE,
    /** Move the leadership to a random follower under load. */
    TRANSFER_LEADER,
    /** SIGKILL a follower, leave a torn record (a write cut short by the crash) at the end of its WAL, restart it. */
    TORN_WAL_RESTART,
    /** Move a range of 512 slots to another group under load (through the shard controller); wait until settled. */
    SLOT_MOVE,
    /** Move a range of slots and SIGKILL a random member while they move; restart it, wait until settled. */
    KILL_DURING_MOVE,
    /** A new group joins on three stores and takes its share of the slots, then leaves again. */
    GROUP_JOIN_LEAVE,
    /**
     * A spare store is started and added (controller AddStore); a group of its own, joined for the
     * fault, moves one replica onto it and back (ReplaceReplica, as {@code ctl config move-replica})
     * under load, then leaves, and the spare is forgotten (ForgetStore) and stops by itself.
     */
    REPLICA_MOVE;

    /** Parses {@code kill-leader} or {@code KILL_LEADER}; the error lists the kinds. */
    public static FaultKind parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown fault '" + text + "'; the faults are "
                    + java.util.Arrays.stream(values()).map(k -> k.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')).toList());
        }
    }
}
