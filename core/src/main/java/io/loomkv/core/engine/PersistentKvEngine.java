package io.loomkv.core.engine;

import java.util.Iterator;

/**
 * An engine that keeps its contents across restarts, and with them, per Raft group, the index of the
 * last log entry whose effects they include (the group's <em>applied index</em>).
 *
 * <h2>The durability contract</h2>
 * <ul>
 *   <li><b>Atomic with the index.</b> {@link #write(WriteBatch, long, long)} applies the batch and
 *       records {@code appliedIndex} for {@code groupId} as one step, on disk as in memory: after any
 *       crash the engine holds either all of the batch and the new index, or none of the batch and
 *       the old index. It never shows half a batch, and never a batch without its index (so a
 *       restart neither loses nor applies twice an entry). {@link #deleteRange} and
 *       {@link #restore(Iterator, long, long)} give the same guarantee.</li>
 *   <li><b>Durable when told.</b> An engine opened with synchronous writes makes each indexed write
 *       durable (fsync) before it returns. Otherwise a write is durable once a later
 *       {@link #sync()} has returned. {@link #durableAppliedIndex} says, per group, how far that
 *       goes: the Raft log of a group must not be compacted past it, since the log is what replays
 *       the writes a power loss may take (a process crash alone loses nothing the engine accepted).</li>
 *   <li><b>Restart.</b> On open, {@link #durableAppliedIndex} is the index stored with the newest
 *       batch that survived; the state machine replays only the log entries after it.</li>
 *   <li><b>Metadata apart.</b> The applied indexes live outside the user key space (a separate
 *       column family or map), so no user key, whatever its bytes, can read or overwrite them.</li>
 *   <li><b>Plain writes.</b> The {@link KvEngine} writes ({@code put}, {@code delete},
 *       {@code write(batch)}) are persisted the same way but move no index; the state machine uses
 *       the indexed forms.</li>
 * </ul>
 *
 * <p>Threading is that of {@link KvEngine}: one writer (the apply thread), concurrent readers.
 * Invalid arguments throw {@link IllegalArgumentException} and change nothing.
 */
public interface PersistentKvEngine extends KvEngine {

    /**
     * Applies {@code batch} and records {@code appliedIndex} for {@code groupId}, atomically.
     *
     * @param groupId the Raft group the batch's entries come from, {@code >= 0}
     * @param appliedIndex the index of the last entry in the batch; greater than the group's current
     *     {@link #appliedIndex}
     */
    void write(WriteBatch batch, long groupId, long appliedIndex);

    /**
     * Removes every key in {@code [fromKey, toKey)} (a slot's range, say) and records
     * {@code appliedIndex} for {@code groupId}, atomically.
     *
     * @param toKey the end (exclusive), or null for every key from {@code fromKey} on
     */
    void deleteRange(byte[] fromKey, byte[] toKey, long groupId, long appliedIndex);

    /**
     * Replaces the whole contents, as {@link #restore(Iterator)} does, and sets {@code groupId}'s
     * applied index to {@code appliedIndex}; every other group's index is forgotten (0), since the
     * contents they described are gone. A crash in the middle leaves the old contents and indexes.
     */
    void restore(Iterator<KeyValue> entries, long groupId, long appliedIndex);

    /** The applied index last recorded for {@code groupId} (durable or not yet), 0 when none. */
    long appliedIndex(long groupId);

    /** The applied index of {@code groupId} that a power loss would keep, 0 when none. */
    long durableAppliedIndex(long groupId);

    /** Makes every write made so far durable; afterwards {@link #durableAppliedIndex} equals {@link #appliedIndex}. */
    void sync();

    /** Keys, bytes on disk and bytes in memory, now. */
    EngineSizes sizes();
}
