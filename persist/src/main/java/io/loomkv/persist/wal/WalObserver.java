package io.loomkv.persist.wal;

/**
 * Told by the WAL's writer thread what it wrote and how long each force took, so that a node can
 * export them as metrics without {@code persist} knowing about any metrics library. Called on the
 * writer thread for every write and force: implementations must be cheap, never block and never
 * throw. Primitive arguments only, so a call allocates nothing.
 */
public interface WalObserver {
    /** Observes nothing; the default. */
    WalObserver NONE = new WalObserver() {
        @Override
        public void forced(long durationNanos) {
        }

        @Override
        public void written(long bytes) {
        }
    };

    /** One {@code force()} (fdatasync) returned after {@code durationNanos}. */
    void forced(long durationNanos);

    /** {@code bytes} were written to a segment (records, segment headers included). */
    void written(long bytes);
}
