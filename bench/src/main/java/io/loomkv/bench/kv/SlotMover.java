package io.loomkv.bench.kv;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.net.client.KvClient;
import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code bench kv --move-slots-every}: while the load runs, moves a range of slots to another
 * group at a fixed interval through the shard controller (a Move; the stores then migrate the
 * slots live), so a run measures throughput and latency with slots moving. Needs at least two
 * data groups. Runs on its own virtual thread; moves that the controller refuses are counted.
 */
final class SlotMover implements AutoCloseable {
    private final KvClient client;
    private final long intervalNanos;
    private final int slotsPerMove;
    private final SplittableRandom random;
    private final PrintStream err;
    private final AtomicInteger made = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private volatile boolean closed;
    private Thread thread;

    SlotMover(KvClient client, long intervalNanos, int slotsPerMove, long seed, PrintStream err) {
        if (slotsPerMove < 1 || slotsPerMove > Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("--move-slots must be 1.." + Slots.SLOT_COUNT + ", got " + slotsPerMove);
        }
        this.client = client;
        this.intervalNanos = intervalNanos;
        this.slotsPerMove = slotsPerMove;
        this.random = new SplittableRandom(seed);
        this.err = err;
    }

    /** Checks the cluster has two groups to move between; IllegalStateException saying why not. */
    void start() {
        SlotLayout layout = latest();
        if (layout.groups().size() < 2) {
            throw new IllegalStateException("--move-slots-every needs at least two data groups; the cluster has "
                    + layout.groups().size());
        }
        thread = Thread.ofVirtual().name("bench-slot-mover").start(this::run);
    }

    private SlotLayout latest() {
        ControllerReply reply = client.config(-1);
        if (!reply.getError().isEmpty()) {
            throw new IllegalStateException("the shard controller: " + reply.getError());
        }
        return SlotLayout.fromProto(reply.getConfig());
    }

    private void run() {
        long next = System.nanoTime() + intervalNanos;
        while (!closed) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            }
            next += intervalNanos;
            try {
                moveOnce();
            } catch (RuntimeException e) {
                refused.incrementAndGet();
                err.println("bench: slot move failed: " + e.getMessage());
            }
        }
    }

    private void moveOnce() {
        MoveSlots move = RandomSlotMove.pick(latest(), random, slotsPerMove);
        if (move == null) {
            refused.incrementAndGet();
            return;
        }
        ControllerReply reply = client.controller(ControllerCommand.newBuilder().setMove(move).build());
        if (reply.getError().isEmpty()) {
            made.incrementAndGet();
        } else {
            refused.incrementAndGet();
            err.println("bench: the controller refused a move: " + reply.getError());
        }
    }

    /** One line for the report. */
    String summary() {
        return String.format(Locale.ROOT, "slot moves: %d made (%d slots each, every %.1f s), %d failed or refused",
                made.get(), slotsPerMove, intervalNanos / 1e9, refused.get());
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
