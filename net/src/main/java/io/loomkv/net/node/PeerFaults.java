package io.loomkv.net.node;

import io.loomkv.core.raft.proto.Message;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Faults injected into a node's outgoing Raft traffic, for tests of unreliable networks and
 * partitions: messages to blocked peers are dropped, others are dropped with a probability
 * drawn from a seeded generator, and the rest may be held back for a random delay (so they also
 * arrive reordered, as on 6.824's unreliable network). A real deployment never configures any
 * (the defaults drop and delay nothing).
 */
public final class PeerFaults {
    private final Set<Long> blocked = ConcurrentHashMap.newKeySet();
    private final ReentrantLock randomLock = new ReentrantLock();
    private SplittableRandom random = new SplittableRandom(1);
    /** Bounds the messages held back at once; beyond it a message to delay is dropped instead. */
    static final int MAX_DELAYED_MESSAGES = 10_000;

    private final Semaphore delayedSlots = new Semaphore(MAX_DELAYED_MESSAGES);
    private volatile double dropProbability;
    private volatile int maxDelayMillis;

    /** Drops every message to {@code peers} (one side of a partition; block both sides for a full cut). */
    public void block(Set<Long> peers) {
        blocked.addAll(peers);
    }

    /** Ends the partition (blocked peers) but keeps random drops and delays. */
    public void unblock() {
        blocked.clear();
    }

    /** Ends every fault: no blocked peers, no random drops or delays. */
    public void heal() {
        blocked.clear();
        dropProbability = 0;
        maxDelayMillis = 0;
    }

    /** Drops each remaining message with {@code probability}, decided by a generator seeded with {@code seed}. */
    public void dropRandomly(double probability, long seed) {
        if (probability < 0 || probability >= 1) {
            throw new IllegalArgumentException("drop probability must be in [0, 1), got " + probability);
        }
        randomLock.lock();
        try {
            random = new SplittableRandom(seed);
        } finally {
            randomLock.unlock();
        }
        dropProbability = probability;
    }

    /**
     * Holds each message that is not dropped back for a delay drawn uniformly from
     * [0, {@code maxDelayMillis}] (same generator as the drops, re-seeded with {@code seed}).
     */
    public void delayRandomly(int maxDelayMillis, long seed) {
        if (maxDelayMillis < 0 || maxDelayMillis > 10_000) {
            throw new IllegalArgumentException("max delay must be in [0, 10000] ms, got " + maxDelayMillis);
        }
        randomLock.lock();
        try {
            random = new SplittableRandom(seed);
        } finally {
            randomLock.unlock();
        }
        this.maxDelayMillis = maxDelayMillis;
    }

    /**
     * True when {@code message} was taken to be handed to {@code sender} after a random delay (or
     * dropped because too many are already held back); false when it should be sent now.
     */
    boolean delay(Message message, Consumer<Message> sender) {
        int max = maxDelayMillis;
        if (max == 0) {
            return false;
        }
        long delayMillis;
        randomLock.lock();
        try {
            delayMillis = random.nextInt(max + 1);
        } finally {
            randomLock.unlock();
        }
        if (delayMillis == 0) {
            return false;
        }
        if (!delayedSlots.tryAcquire()) {
            return true; // Lost: the "network" holds too much already.
        }
        Thread.ofVirtual().name("peer-delay-" + message.getTo()).start(() -> {
            try {
                Thread.sleep(delayMillis);
                sender.accept(message);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                delayedSlots.release();
            }
        });
        return true;
    }

    /** Whether messages to {@code peer} are cut off (a partition). */
    boolean isBlocked(long peer) {
        return blocked.contains(peer);
    }

    boolean shouldDrop(Message message) {
        if (blocked.contains(message.getTo())) {
            return true;
        }
        double p = dropProbability;
        if (p == 0) {
            return false;
        }
        randomLock.lock();
        try {
            return random.nextDouble() < p;
        } finally {
            randomLock.unlock();
        }
    }
}
