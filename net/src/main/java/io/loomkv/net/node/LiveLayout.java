package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The newest shard controller configuration this store knows, which it routes requests by and
 * hands to clients. It starts as the layout the cluster was created with (configuration 1) and
 * only moves forward: the store's {@link MigrationDriver} offers each newer configuration it reads
 * from the controller, and an older one offered late is ignored. Routing by a configuration that
 * some group has not reached yet is harmless: that group's replica answers from its own state
 * (WRONG_GROUP or "retry shortly"), never from this one. Each newer layout taken is handed to a
 * listener (the store follows the added and forgotten stores it lists); the initial one is not,
 * since it may be older than what the store saved at its last run.
 */
final class LiveLayout {
    private final AtomicReference<SlotLayout> current;
    private final Consumer<SlotLayout> taken;

    LiveLayout(SlotLayout initial, Consumer<SlotLayout> taken) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
        this.taken = Objects.requireNonNull(taken, "taken");
    }

    SlotLayout current() {
        return current.get();
    }

    /** Takes {@code layout} if it is newer than the current one; returns whether it did. */
    boolean offer(SlotLayout layout) {
        while (true) {
            SlotLayout now = current.get();
            if (layout.version() <= now.version()) {
                return false;
            }
            if (current.compareAndSet(now, layout)) {
                taken.accept(layout);
                return true;
            }
        }
    }
}
