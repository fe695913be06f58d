package io.loomkv.core.kv;

import java.io.IOException;
import java.io.InputStream;

/**
 * What a state machine snapshot stream holds, read without an engine (for {@code loomkv snapshot
 * status} of a backup): it is checked as a restore checks it (header, sessions, keys well formed
 * and in order, trailer counts and checksum), but the data is only counted.
 *
 * @param lastAppliedIndex the log index the snapshot covers
 * @param sessionCount client sessions kept for exactly-once writes
 * @param keyCount data keys
 * @param dataBytes the keys' and values' bytes
 * @param controller whether it holds shard controller state (group 0)
 */
public record KvSnapshotSummary(long lastAppliedIndex, long sessionCount, long keyCount, long dataBytes, boolean controller) {

    /**
     * Reads the whole stream of group {@code groupId}.
     *
     * @param limits at least the limits of the cluster that wrote it (they bound a record's size)
     * @throws CorruptSnapshotException when the stream is damaged or does not belong to such a group
     */
    public static KvSnapshotSummary read(InputStream in, KvLimits limits, long groupId) throws IOException {
        long[] counts = new long[2];
        KvSnapshotCodec.Restored restored = KvSnapshotCodec.read(in, limits, SessionPolicy.defaults(), groupId,
                (data, index, clock, sessions, migration) -> {
                    while (data.hasNext()) {
                        io.loomkv.core.engine.KeyValue entry = data.next();
                        if (!DeadlineKeys.isDeadlineKey(entry.key())) {
                            counts[0]++; // keys, not their deadlines
                        }
                        counts[1] += entry.key().length + entry.value().length;
                    }
                });
        return new KvSnapshotSummary(restored.lastAppliedIndex(), restored.sessions().size(), counts[0], counts[1],
                restored.controller() != null);
    }
}
