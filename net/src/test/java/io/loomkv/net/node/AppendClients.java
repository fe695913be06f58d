package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Clients that append unique tokens to keys of their own while a test changes the cluster (the
 * 6.824 4B concurrent and unreliable scenarios), and the check that every acknowledged append is
 * in its key's final value exactly once, in order. An append whose outcome its client never
 * learned (the client gave up) is in the value at most once, after the acknowledged ones; the
 * client then goes on with a fresh key, since later appends to that key could not tell whether
 * it happened.
 */
final class AppendClients {
    /** What one key was sent; written by its one client thread, read after that thread ended. */
    private static final class KeyLog {
        final StringBuilder acknowledged = new StringBuilder();
        String unknownOutcome;
    }

    private final Map<String, KeyLog> keys = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final AtomicInteger unknown = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicReference<String> firstUnknown = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    private AppendClients() {
    }

    /** Starts {@code clients} clients, each appending in turn to {@code keysPerClient} keys named {@code prefix-client-j}. */
    static AppendClients start(LocalCluster cluster, String prefix, int clients, int keysPerClient) {
        if (clients < 1 || keysPerClient < 1) {
            throw new IllegalArgumentException("need at least one client and one key each, got " + clients + " x " + keysPerClient);
        }
        AppendClients appenders = new AppendClients();
        for (int c = 0; c < clients; c++) {
            int clientNumber = c;
            appenders.threads.add(Thread.ofPlatform().name(prefix + "-client-" + c).start(() -> {
                try (KvClient client = cluster.client()) {
                    appenders.appendUntilStopped(client, prefix + "-" + clientNumber, clientNumber, keysPerClient);
                } catch (Throwable e) {
                    appenders.failure.compareAndSet(null, e);
                }
            }));
        }
        return appenders;
    }

    private void appendUntilStopped(KvClient client, String keyPrefix, int clientNumber, int keysPerClient) {
        int[] generation = new int[keysPerClient];
        for (int done = 0; !stop.get(); done++) {
            int j = done % keysPerClient;
            String key = keyPrefix + "-" + j + (generation[j] == 0 ? "" : "." + generation[j]);
            String token = "[" + clientNumber + "." + done + "]";
            KeyLog log = keys.computeIfAbsent(key, k -> new KeyLog());
            try {
                client.append(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(token));
                log.acknowledged.append(token);
                acknowledged.incrementAndGet();
            } catch (KvClientException e) {
                log.unknownOutcome = token;
                firstUnknown.compareAndSet(null, key + " " + token + ": " + e.getMessage());
                unknown.incrementAndGet();
                generation[j]++;
            }
        }
    }

    /** Stops the clients after their current append and waits for them; rethrows what broke one. */
    void stop() throws InterruptedException {
        stop.set(true);
        for (Thread thread : threads) {
            thread.join();
        }
        Throwable broken = failure.get();
        if (broken != null) {
            throw new AssertionError("an append client failed", broken);
        }
    }

    /** Appends acknowledged so far. */
    int acknowledged() {
        return acknowledged.get();
    }

    /** Appends whose outcome their client never learned. */
    int unknown() {
        return unknown.get();
    }

    /** Checks that every append got a definite answer within the clients' deadline; names the first that did not. */
    void assertNoUnknownOutcome() {
        assertEquals(0, unknown(), () -> unknown() + " appends without a definite answer, the first: " + firstUnknown.get());
    }

    /**
     * Reads every key through {@code reader} and checks its value (after {@link #stop}); returns
     * the keys that exist (a key whose only append had an unknown outcome may not).
     */
    Set<String> check(KvClient reader) {
        if (!threads.isEmpty() && threads.stream().anyMatch(Thread::isAlive)) {
            throw new IllegalStateException("check the values after stop()");
        }
        Set<String> present = new TreeSet<>();
        for (Map.Entry<String, KeyLog> entry : new TreeMap<>(keys).entrySet()) {
            String key = entry.getKey();
            String expected = entry.getValue().acknowledged.toString();
            String pending = entry.getValue().unknownOutcome;
            String value = reader.get(key).orElse("");
            if (pending == null) {
                assertEquals(expected, value, "key " + key + ": every acknowledged append once, in order");
            } else {
                assertTrue(value.equals(expected) || value.equals(expected + pending), "key " + key
                        + ": every acknowledged append once, in order, then " + pending + " at most once: " + value);
            }
            if (!value.isEmpty()) {
                present.add(key);
            }
        }
        return present;
    }
}
