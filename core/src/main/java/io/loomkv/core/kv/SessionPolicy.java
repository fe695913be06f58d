package io.loomkv.core.kv;

/**
 * How long client sessions live and how many the state machine keeps.
 *
 * <p>Expiry rule: the state machine keeps a log clock, the largest {@code timestamp_millis}
 * stamped by a leader on any applied command (never a local clock). Before each command is
 * applied, every session whose last activity is more than {@code sessionTimeoutMillis} behind
 * the log clock is expired. All replicas apply the same log, so they expire the same sessions at
 * the same log position.
 *
 * <p>Bound: at most {@code maxSessions} sessions; opening one more evicts the least recently
 * used. At most {@code maxUnacknowledgedReplies} cached replies per session; a write that would
 * need one more gets {@code RESOURCE_EXHAUSTED} and is not applied.
 *
 * <p>Consequence of expiry and eviction: the session's dedup memory is gone, so its next write
 * gets {@code SESSION_EXPIRED} and is not applied, rather than risk applying a retried write
 * twice. The client opens a new session; writes it had sent without a reply are in doubt.
 *
 * <p>Defaults: timeout 1 hour, 100000 sessions, 128 unacknowledged replies per session. Like
 * {@link KvLimits}, a cluster-wide setting that every replica must share.
 */
public record SessionPolicy(long sessionTimeoutMillis, int maxSessions, int maxUnacknowledgedReplies) {

    public static final long DEFAULT_SESSION_TIMEOUT_MILLIS = 60L * 60 * 1000;
    public static final int DEFAULT_MAX_SESSIONS = 100_000;
    public static final int DEFAULT_MAX_UNACKNOWLEDGED_REPLIES = 128;

    public SessionPolicy {
        if (sessionTimeoutMillis <= 0) {
            throw new IllegalArgumentException("sessionTimeoutMillis must be positive, got " + sessionTimeoutMillis);
        }
        if (maxSessions <= 0) {
            throw new IllegalArgumentException("maxSessions must be positive, got " + maxSessions);
        }
        if (maxUnacknowledgedReplies <= 0) {
            throw new IllegalArgumentException(
                    "maxUnacknowledgedReplies must be positive, got " + maxUnacknowledgedReplies);
        }
    }

    public static SessionPolicy defaults() {
        return new SessionPolicy(
                DEFAULT_SESSION_TIMEOUT_MILLIS, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_UNACKNOWLEDGED_REPLIES);
    }
}
