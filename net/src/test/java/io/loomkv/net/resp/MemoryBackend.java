package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireResult;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.net.client.KeyTtl;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A backend in memory for the command and server tests: one sorted map under one lock, so every
 * operation is atomic as the cluster's are within a group. {@link #hold()} makes further calls wait
 * until {@link #release()} (a backend that stopped answering).
 */
final class MemoryBackend implements RespBackend {
    private final ReentrantLock lock = new ReentrantLock();
    private final NavigableMap<ByteString, ByteString> data = new TreeMap<>(ByteString.unsignedLexicographicalComparator());
    /** Key deadlines (Unix ms), as the state machine keeps them; a key past its deadline is purged when touched. */
    private final Map<ByteString, Long> deadlines = new java.util.HashMap<>();
    /** The backend's clock, which tests move by hand. */
    final java.util.concurrent.atomic.AtomicLong nowMillis = new java.util.concurrent.atomic.AtomicLong(1_000_000);
    private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);

    void hold() {
        gate = new CompletableFuture<>();
    }

    void release() {
        gate.complete(null);
    }

    int size() {
        lock.lock();
        try {
            return data.size();
        } finally {
            lock.unlock();
        }
    }

    private <T> CompletableFuture<T> atomically(java.util.function.Supplier<T> operation) {
        return gate.thenApplyAsync(ignored -> {
            lock.lock();
            try {
                purgeExpired();
                return operation.get();
            } finally {
                lock.unlock();
            }
        });
    }

    @Override
    public CompletableFuture<Optional<ByteString>> get(ByteString key) {
        return atomically(() -> Optional.ofNullable(data.get(key)));
    }

    /** Under the lock: forgets every key whose deadline has passed. */
    private void purgeExpired() {
        long now = nowMillis.get();
        deadlines.entrySet().removeIf(entry -> {
            if (entry.getValue() <= now) {
                data.remove(entry.getKey());
                return true;
            }
            return false;
        });
    }

    /** Under the lock: gives a key just written the deadline {@code expiry} says (the key existed before: {@code existed}). */
    private void applyExpiry(ByteString key, Expiry expiry, boolean existed) {
        switch (expiry.getDeadlineCase()) {
            case DEADLINE_NOT_SET -> deadlines.remove(key);
            case KEEP -> {
                if (!existed) {
                    deadlines.remove(key);
                }
            }
            case TTL_MILLIS -> deadlines.put(key, nowMillis.get() + expiry.getTtlMillis());
            case AT_UNIX_MILLIS -> deadlines.put(key, expiry.getAtUnixMillis());
        }
        purgeExpired();
    }

    @Override
    public CompletableFuture<Boolean> put(ByteString key, ByteString value, Expiry expiry) {
        return atomically(() -> {
            boolean existed = data.put(key, value) != null;
            applyExpiry(key, expiry, existed);
            return existed;
        });
    }

    @Override
    public CompletableFuture<ExpireResult> expire(Expire expire) {
        return atomically(() -> {
            ByteString key = expire.getKey();
            if (!data.containsKey(key)) {
                return ExpireResult.getDefaultInstance();
            }
            Long before = deadlines.get(key);
            long next = switch (expire.getChangeCase()) {
                case TTL_MILLIS -> nowMillis.get() + expire.getTtlMillis();
                case AT_UNIX_MILLIS -> expire.getAtUnixMillis();
                case PERSIST, CHANGE_NOT_SET -> 0;
            };
            if (!io.loomkv.core.kv.Deadlines.allows(expire.getCondition(), before == null ? 0 : before, next)) {
                return ExpireResult.newBuilder().setExisted(true).setSkipped(true).build();
            }
            switch (expire.getChangeCase()) {
                case PERSIST -> deadlines.remove(key);
                case TTL_MILLIS -> deadlines.put(key, nowMillis.get() + expire.getTtlMillis());
                case AT_UNIX_MILLIS -> deadlines.put(key, expire.getAtUnixMillis());
                case CHANGE_NOT_SET -> throw new IllegalArgumentException("expire without a change");
            }
            purgeExpired();
            return ExpireResult.newBuilder().setExisted(true)
                    .setChanged(!java.util.Objects.equals(before, deadlines.get(key)) || !data.containsKey(key)).build();
        });
    }

    @Override
    public CompletableFuture<KeyTtl> ttl(ByteString key) {
        return atomically(() -> {
            if (!data.containsKey(key)) {
                return KeyTtl.absent();
            }
            Long deadline = deadlines.get(key);
            return deadline == null ? new KeyTtl(true, 0, 0) : new KeyTtl(true, deadline, deadline - nowMillis.get());
        });
    }

    @Override
    public CompletableFuture<Boolean> delete(ByteString key) {
        return atomically(() -> {
            deadlines.remove(key);
            return data.remove(key) != null;
        });
    }

    @Override
    public CompletableFuture<Long> append(ByteString key, ByteString value) {
        return atomically(() -> (long) data.merge(key, value, ByteString::concat).size());
    }

    @Override
    public CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue,
            Expiry expiry) {
        return atomically(() -> {
            Optional<ByteString> current = Optional.ofNullable(data.get(key));
            if (!current.equals(expected)) {
                return new CasOutcome(false, current);
            }
            data.put(key, newValue);
            applyExpiry(key, expiry, current.isPresent());
            return new CasOutcome(true, Optional.empty());
        });
    }

    @Override
    public CompletableFuture<List<Optional<ByteString>>> multiGet(List<ByteString> keys) {
        return atomically(() -> keys.stream().map(k -> Optional.ofNullable(data.get(k))).toList());
    }

    @Override
    public CompletableFuture<Void> multiPut(SequencedMap<ByteString, ByteString> entries) {
        return atomically(() -> {
            data.putAll(entries);
            entries.keySet().forEach(deadlines::remove);
            return null;
        });
    }

    @Override
    public CompletableFuture<ScanPage> scan(ByteString prefix, ByteString resumeAfter, int limit) {
        return atomically(() -> {
            NavigableMap<ByteString, ByteString> tail = resumeAfter.isEmpty() ? data.tailMap(prefix, true)
                    : data.tailMap(resumeAfter, false);
            List<ByteString> keys = new ArrayList<>();
            for (ByteString key : tail.keySet()) {
                if (!key.startsWith(prefix)) {
                    break;
                }
                if (keys.size() == limit) {
                    return new ScanPage(keys, true, keys.get(keys.size() - 1));
                }
                keys.add(key);
            }
            return new ScanPage(keys, false, ByteString.EMPTY);
        });
    }

    @Override
    public Map<String, String> clusterInfo() {
        return Map.of("mode", "memory");
    }
}
