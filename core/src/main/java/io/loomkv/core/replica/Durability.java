package io.loomkv.core.replica;

/**
 * How a {@link ReplicaDriver} learns that a persist it started is durable. The runtime's WAL
 * completes it after the group-commit force that covers the write; the simulator's WAL after its
 * simulated fsync. The driver only polls: the runtime wakes the replica's turn when a persist
 * completes, so the driver needs no callback and no thread.
 */
@FunctionalInterface
public interface Durability {

    /** A persist that needed no device write (nothing to write, or nothing that must be synced). */
    Durability DONE = () -> true;

    /**
     * Whether everything the persist wrote is durable.
     *
     * @throws IllegalStateException (or another unchecked exception) when the write failed: a
     *     failed fsync is fatal for the replica, which must stop rather than acknowledge anything
     */
    boolean isDurable();
}
