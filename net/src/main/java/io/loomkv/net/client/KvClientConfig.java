package io.loomkv.net.client;

import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.net.tls.TlsContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * How a {@link KvClient} reaches the cluster and how long it keeps trying.
 *
 * @param servers client addresses of the cluster's nodes (any subset; the leader is found by redirects)
 * @param clusterId presented in the handshake; empty accepts any cluster
 * @param attemptTimeout the most one attempt (one RPC to one node) may take
 * @param deadline the most one operation may take over all its attempts; after it the operation
 *     fails, and a write is reported as "outcome unknown", never as a success
 * @param backoffInitial wait before the first retry; doubles per retry, with jitter
 * @param backoffMax the wait never grows beyond this
 * @param maxWritesInFlight how far a new write's sequence may run ahead of the oldest write still
 *     awaiting its reply (at most the servers' per-session window of cached replies); a further
 *     write waits for the oldest to finish
 * @param tls connections speak TLS with this context (the CA that signed the stores' client
 *     certificates, and this client's certificate when the stores demand one); null: plain TCP
 * @param serializableReadsOnFollowers a read with consistency SERIALIZABLE (which allows a stale
 *     answer) goes first to a follower of its group, round robin, instead of the leader, spreading
 *     such reads over the replicas (the proxy turns it on); its retries go to the leader. Off by
 *     default: a client that asks for SERIALIZABLE still reads the leader unless it opts in
 */
public record KvClientConfig(List<InetSocketAddress> servers, String clusterId, Duration attemptTimeout, Duration deadline,
        Duration backoffInitial, Duration backoffMax, int maxWritesInFlight, TlsContext tls, boolean serializableReadsOnFollowers) {
    public KvClientConfig {
        servers = List.copyOf(servers);
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("at least one server address is needed");
        }
        if (clusterId == null) {
            throw new IllegalArgumentException("clusterId is null (use \"\" to accept any cluster)");
        }
        if (attemptTimeout.toMillis() < 1 || deadline.compareTo(attemptTimeout) < 0) {
            throw new IllegalArgumentException("need 1 ms <= attemptTimeout <= deadline, got " + attemptTimeout + " and " + deadline);
        }
        if (backoffInitial.toMillis() < 1 || backoffMax.compareTo(backoffInitial) < 0) {
            throw new IllegalArgumentException("need 1 ms <= backoffInitial <= backoffMax, got " + backoffInitial + " and " + backoffMax);
        }
        if (maxWritesInFlight < 1 || maxWritesInFlight > SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES) {
            throw new IllegalArgumentException("maxWritesInFlight must be in 1.."
                    + SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES + ", got " + maxWritesInFlight);
        }
    }

    /** Serializable reads go to the leader like every other request. */
    public KvClientConfig(List<InetSocketAddress> servers, String clusterId, Duration attemptTimeout, Duration deadline,
            Duration backoffInitial, Duration backoffMax, int maxWritesInFlight, TlsContext tls) {
        this(servers, clusterId, attemptTimeout, deadline, backoffInitial, backoffMax, maxWritesInFlight, tls, false);
    }

    /** Plain TCP. */
    public KvClientConfig(List<InetSocketAddress> servers, String clusterId, Duration attemptTimeout, Duration deadline,
            Duration backoffInitial, Duration backoffMax, int maxWritesInFlight) {
        this(servers, clusterId, attemptTimeout, deadline, backoffInitial, backoffMax, maxWritesInFlight, null);
    }

    /**
     * 2 s per attempt, 15 s per operation, backoff 20 ms .. 100 ms, 64 writes in flight. The backoff
     * stays short because the usual reason to retry is an election, which ends within about one
     * election timeout: with a 1 s cap, an operation that had been retrying through the election
     * was often asleep for another 0.3-1 s when the new leader took over, and that sleep, not the
     * election, was most of the measured failover (984-1,107 ms after a leader SIGKILL). At 100 ms a
     * client costs a cluster at most about 10 attempts a second while no leader answers.
     */
    public static KvClientConfig of(List<InetSocketAddress> servers, String clusterId) {
        return new KvClientConfig(servers, clusterId, Duration.ofSeconds(2), Duration.ofSeconds(15),
                Duration.ofMillis(20), Duration.ofMillis(100), 64, null);
    }

    public KvClientConfig withDeadline(Duration newDeadline, Duration newAttemptTimeout) {
        return new KvClientConfig(servers, clusterId, newAttemptTimeout, newDeadline, backoffInitial, backoffMax, maxWritesInFlight,
                tls, serializableReadsOnFollowers);
    }

    /** The same with TLS through {@code context} (null: plain TCP). */
    public KvClientConfig withTls(TlsContext context) {
        return new KvClientConfig(servers, clusterId, attemptTimeout, deadline, backoffInitial, backoffMax, maxWritesInFlight,
                context, serializableReadsOnFollowers);
    }

    /** The same with at most {@code max} writes in flight per group (see {@link #maxWritesInFlight()}). */
    public KvClientConfig withMaxWritesInFlight(int max) {
        return new KvClientConfig(servers, clusterId, attemptTimeout, deadline, backoffInitial, backoffMax, max, tls,
                serializableReadsOnFollowers);
    }

    /** The same with SERIALIZABLE reads sent to followers first ({@code true}) or to the leader. */
    public KvClientConfig withSerializableReadsOnFollowers(boolean onFollowers) {
        return new KvClientConfig(servers, clusterId, attemptTimeout, deadline, backoffInitial, backoffMax, maxWritesInFlight, tls,
                onFollowers);
    }
}
