package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's one clock: every tick it schedules a turn of each replica that is not quiet (the
 * turn reads the clock and hands the core the ticks due), judges which peer stores are alive, sends store heartbeats to peers that
 * were sent nothing during the tick, and runs the store's slow housekeeping (leader balancing)
 * two ticks after start and then once a second. One thread for all groups, instead of a timer per group; a slow replica
 * cannot delay the others' ticks (CockroachDB's raftTickLoop does the same).
 *
 * <p>It does not count ticks for the replicas: after a pause of the whole process a request could
 * reach a replica before this thread runs again, so each turn reads the clock itself (see
 * {@link Replica}).
 *
 * <p>A timed park once per tick: see LoopTicker's history in docs/performance.md for why the replicas do not
 * park with timeouts themselves. While every replica is quiet there is nothing to tick, so it runs
 * every other tick (liveness, store heartbeats, housekeeping); a replica that wakes calls
 * {@link #replicaWoke} and the next tick comes on time. An idle store's wake-ups are most of its
 * idle CPU on this machine (each costs a carrier's park and unpark), see docs/performance.md.
 */
final class StoreTicker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreTicker.class);
    private static final long HOUSEKEEPING_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final String name;
    private final long tickNanos;
    private final long storeId;
    private final Supplier<Collection<Replica>> replicas;
    private final Supplier<Collection<Long>> peerStores;
    private final StoreLiveness liveness;
    private final StoreTransport transport;
    private final Runnable housekeeping;
    private final Map<Long, Boolean> peerLive = new HashMap<>();
    private volatile boolean running = true;
    private volatile Thread thread;
    /** Set while the ticker skips a tick because every replica was quiet; cleared by {@link #replicaWoke}. */
    private volatile boolean idlePace;

    StoreTicker(String name, long storeId, long tickNanos, Supplier<Collection<Replica>> replicas,
            Supplier<Collection<Long>> peerStores, StoreLiveness liveness, StoreTransport transport, Runnable housekeeping) {
        if (tickNanos <= 0) {
            throw new IllegalArgumentException("tickNanos must be positive, got " + tickNanos);
        }
        this.name = name;
        this.storeId = storeId;
        this.tickNanos = tickNanos;
        this.replicas = replicas;
        this.peerStores = peerStores;
        this.liveness = liveness;
        this.transport = transport;
        this.housekeeping = housekeeping;
    }

    void start() {
        thread = Thread.ofVirtual().name(name).start(LogContext.inheritNode(this));
    }

    @Override
    public void run() {
        long lastTickNanos = System.nanoTime();
        long nextTickNanos = lastTickNanos + tickNanos;
        long nextHousekeepingNanos = System.nanoTime() + 2 * tickNanos;
        while (running) {
            long now = System.nanoTime();
            if (now - nextTickNanos < 0) {
                if (!idlePace && nextTickNanos - lastTickNanos > tickNanos) {
                    nextTickNanos = lastTickNanos + tickNanos; // A replica woke: tick on time again.
                    continue;
                }
                LockSupport.parkNanos(this, nextTickNanos - now);
                continue;
            }
            lastTickNanos = nextTickNanos + (now - nextTickNanos) / tickNanos * tickNanos;
            nextTickNanos = lastTickNanos + tickNanos;
            try {
                // Set before the scan: a replica that wakes during or after it finds the flag and unparks us.
                idlePace = true;
                if (!tick(now)) {
                    idlePace = false;
                } else if (idlePace) {
                    nextTickNanos += tickNanos;
                }
                if (now - nextHousekeepingNanos >= 0) {
                    nextHousekeepingNanos = now + HOUSEKEEPING_NANOS;
                    housekeeping.run();
                }
            } catch (RuntimeException e) {
                idlePace = false;
                LOG.error("{}: tick failed", name, e);
            }
        }
    }

    /** A replica left its quiet state: if the ticker is skipping a tick, it ticks on time again. */
    void replicaWoke() {
        if (idlePace) {
            idlePace = false;
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /** One tick; true when every replica was quiet (nothing was ticked). */
    private boolean tick(long now) {
        boolean allQuiet = true;
        for (Replica replica : replicas.get()) {
            if (!replica.isQuiet()) {
                allQuiet = false;
                replica.tickDue();
            }
        }
        Collection<Long> peers = peerStores.get();
        for (long peer : peers) {
            if (peer != storeId) {
                judge(peer, now);
            }
        }
        transport.sendStoreHeartbeats(peers, now, tickNanos);
        return allQuiet;
    }

    private void judge(long peer, long now) {
        boolean live = liveness.isLive(peer, now);
        Boolean before = peerLive.put(peer, live);
        if (before == null || before == live) {
            return;
        }
        if (live) {
            LOG.info("{}: store {} is back", name, peer);
            for (Replica replica : replicas.get()) {
                replica.onStoreUp(peer);
            }
        } else {
            long silentTicks = (now - liveness.lastHeard(peer)) / tickNanos;
            LOG.info("{}: store {} silent for {} ms; taking it for down", name, peer,
                    TimeUnit.NANOSECONDS.toMillis(now - liveness.lastHeard(peer)));
            for (Replica replica : replicas.get()) {
                replica.onStoreDown(peer, silentTicks);
            }
        }
    }

    void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    void join() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.join();
        }
    }
}
