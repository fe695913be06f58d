package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
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

    @Override
    public CompletableFuture<Boolean> put(ByteString key, ByteString value) {
        return atomically(() -> data.put(key, value) != null);
    }

    @Override
    public CompletableFuture<Boolean> delete(ByteString key) {
        return atomically(() -> data.remove(key) != null);
    }

    @Override
    public CompletableFuture<Long> append(ByteString key, ByteString value) {
        return atomically(() -> (long) data.merge(key, value, ByteString::concat).size());
    }

    @Override
    public CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue) {
        return atomically(() -> {
            Optional<ByteString> current = Optional.ofNullable(data.get(key));
            if (!current.equals(expected)) {
                return new CasOutcome(false, current);
            }
            data.put(key, newValue);
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
