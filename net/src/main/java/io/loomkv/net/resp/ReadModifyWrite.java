package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Expiry;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A single-key read-modify-write (INCR, SET ... XX, GETSET) as an optimistic loop: read the value,
 * compute the new one, compare-and-set it; when another writer got there first, the failed
 * compare-and-set already says what is there now, so the next attempt computes from that without
 * reading again. Every attempt is atomic, so the command is too; after {@code maxAttempts} lost
 * races it gives up with an error, having changed nothing.
 */
final class ReadModifyWrite {
    /** The value before the command, and after it (equal when the change left the key alone). */
    record Result(Optional<ByteString> before, Optional<ByteString> after) {}

    /** The new value for the current one; empty leaves the key as it is. May throw {@link RespError}. */
    @FunctionalInterface
    interface Change {
        Optional<ByteString> apply(Optional<ByteString> current);
    }

    private ReadModifyWrite() {}

    /**
     * Applies {@code change}; the new value gets {@code expiry} (unset: no time to live, as SET;
     * {@code keep}: the key's own, as INCR and APPEND).
     */
    static CompletableFuture<Result> apply(RespBackend backend, ByteString key, int maxAttempts, Expiry expiry,
            Change change) {
        return backend.get(key).thenComposeAsync(current -> attempt(backend, key, current, expiry, change, 1, maxAttempts),
                BlockingSteps.EXECUTOR);
    }

    private static CompletableFuture<Result> attempt(RespBackend backend, ByteString key, Optional<ByteString> current,
            Expiry expiry, Change change, int attempt, int maxAttempts) {
        Optional<ByteString> next = change.apply(current);
        if (next.isEmpty()) {
            return CompletableFuture.completedFuture(new Result(current, current));
        }
        return backend.compareAndSet(key, current, next.get(), expiry).thenComposeAsync(outcome -> {
            if (outcome.swapped()) {
                return CompletableFuture.completedFuture(new Result(current, next));
            }
            if (attempt >= maxAttempts) {
                throw RespError.err("gave up after " + maxAttempts
                        + " compare-and-set attempts lost to concurrent writers of the key (nothing was changed)");
            }
            return attempt(backend, key, outcome.current(), expiry, change, attempt + 1, maxAttempts);
        }, BlockingSteps.EXECUTOR);
    }
}
