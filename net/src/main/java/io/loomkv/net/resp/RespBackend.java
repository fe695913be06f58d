package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireResult;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.net.client.KeyTtl;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * The key-value operations the RESP commands are built from: what the loomkv state machine
 * offers, no more, so every command is exactly as atomic as the operation under it.
 *
 * <p>A future fails with {@link RespError} to answer the client with that error as it is: a
 * backend inside a store will answer {@code -MOVED <slot> <host>:<port>} for keys it does not lead
 * and {@code -CLUSTERDOWN} while a group has no leader, without any change to the commands. Any
 * other failure is answered as {@code -ERR <message>}. Implementations are thread-safe.
 */
public interface RespBackend {

    /** The value of {@code key}, or empty when it does not exist (linearizable). */
    CompletableFuture<Optional<ByteString>> get(ByteString key);

    /** Sets {@code key} with no time to live; completes with whether it existed. */
    default CompletableFuture<Boolean> put(ByteString key, ByteString value) {
        return put(key, value, Expiry.getDefaultInstance());
    }

    /** Sets {@code key} with {@code expiry} (unset: no time to live); completes with whether it existed. */
    CompletableFuture<Boolean> put(ByteString key, ByteString value, Expiry expiry);

    /** Deletes {@code key}; completes with whether it existed. */
    CompletableFuture<Boolean> delete(ByteString key);

    /** Appends to {@code key}'s value (absent counts as empty); completes with the new length. */
    CompletableFuture<Long> append(ByteString key, ByteString value);

    /**
     * Sets {@code key} to {@code newValue} if its value is {@code expected} (empty: if it does not
     * exist), in one atomic step; the outcome says whether it swapped and, if not, what is there.
     */
    default CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue) {
        return compareAndSet(key, expected, newValue, Expiry.getDefaultInstance());
    }

    /** {@link #compareAndSet(ByteString, Optional, ByteString)} giving the new value {@code expiry} (unset: none). */
    CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue,
            Expiry expiry);

    /** Sets, moves or removes the deadline of an existing key (EXPIRE, PEXPIREAT, PERSIST). */
    CompletableFuture<ExpireResult> expire(Expire expire);

    /** {@code key}'s time to live (linearizable): absent, none, or the deadline and the time left. */
    CompletableFuture<KeyTtl> ttl(ByteString key);

    /** The values of {@code keys} in their order; each group's keys read at one point in time. */
    CompletableFuture<List<Optional<ByteString>>> multiGet(List<ByteString> keys);

    /** Writes every pair: atomically when the keys share a group (e.g. one hash tag), else atomically per group only. */
    CompletableFuture<Void> multiPut(SequencedMap<ByteString, ByteString> entries);

    /**
     * Up to {@code limit} keys (with values) starting with {@code prefix}, after {@code resumeAfter}
     * (empty: from the first), in key order over the whole key space.
     */
    CompletableFuture<ScanPage> scan(ByteString prefix, ByteString resumeAfter, int limit);

    /**
     * The backend one connection uses. {@code readOnly} says whether the connection sent
     * {@code READONLY} (and no {@code READWRITE} since): a store's backend then serves reads from a
     * follower replica (possibly stale) instead of redirecting them to the leader. The default
     * ignores it: a gateway has no per-connection state.
     */
    default RespBackend forConnection(BooleanSupplier readOnly) {
        return this;
    }

    /**
     * The connection this backend was given for ({@link #forConnection}) has closed: a backend may
     * keep what it held for later connections (a store's backend hands its idle write sessions on).
     * Replies still pending may complete afterwards.
     */
    default void connectionClosed() {
    }

    /** The cluster as Redis Cluster clients see it; empty when this backend is not a cluster node (a gateway). */
    default Optional<RespCluster> cluster() {
        return Optional.empty();
    }

    /** Lines for INFO's {@code # Cluster} section (name to value), e.g. groups and layout version. */
    Map<String, String> clusterInfo();

    /** The result of {@link #compareAndSet}: when not swapped, the value found (empty: absent). */
    record CasOutcome(boolean swapped, Optional<ByteString> current) {}

    /** One page of a scan; {@code more} with {@code continuation} to pass as the next {@code resumeAfter}. */
    record ScanPage(List<ByteString> keys, boolean more, ByteString continuation) {}
}
