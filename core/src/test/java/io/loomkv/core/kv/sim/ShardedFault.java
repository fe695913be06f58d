package io.loomkv.core.kv.sim;

/**
 * Deliberate bugs in the sharded simulation's clients, migration driver or replica mover, used only by
 * {@link ShardedMovesSelfTest} to prove that {@link ShardedKvRun}'s checks catch what such a bug
 * breaks; {@link #NONE} everywhere else.
 */
enum ShardedFault {
    NONE,
    /** A client retries a lost write under a new sequence: the session cannot tell it is a retry, so it may apply twice. */
    RETRY_WITH_NEW_SEQUENCE,
    /** The driver deletes handed-off slots without asking the new owner whether it has installed them. */
    DELETE_BEFORE_INSTALLED,
    /** A client reads from any live replica at once, without a ReadIndex: a stale (serializable) read. */
    STALE_READS,
    /** The replica mover never retires a removed replica: it keeps its data and may keep serving. */
    NEVER_RETIRE
}
