package io.loomkv.net.node;

import io.loomkv.core.raft.proto.Message;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Faults injected into a node's outgoing Raft traffic, for tests of unreliable networks and
 * partitions: messages to blocked peers are dropped, and others are dropped with a probability
 * drawn from a seeded generator. A real deployment never configures any (the defaults drop nothing).
 */
public final class PeerFaults {
    private final Set<Long> blocked = ConcurrentHashMap.newKeySet();
    private final ReentrantLock randomLock = new ReentrantLock();
    private SplittableRandom random = new SplittableRandom(1);
    private volatile double dropProbability;

    /** Drops every message to {@code peers} (one side of a partition; block both sides for a full cut). */
    public void block(Set<Long> peers) {
        blocked.addAll(peers);
    }

    public void heal() {
        blocked.clear();
        dropProbability = 0;
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
