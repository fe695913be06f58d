package io.loomkv.engine;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The applied index of every group an engine has seen: the last one recorded and the last one known
 * durable. The engine stores the indexes with its data; this is the in-memory mirror that answers
 * {@code appliedIndex} and {@code durableAppliedIndex} without I/O, and checks that indexes grow.
 *
 * <p>Written by the engine's one writer (under its write lock), read by any thread.
 */
public final class AppliedIndexes {
    private final ConcurrentHashMap<Long, Long> recorded = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Long> durable = new ConcurrentHashMap<>();

    /** Starts from what the engine found on disk, all of it durable. */
    public AppliedIndexes(Map<Long, Long> stored) {
        stored.forEach((groupId, index) -> {
            checkGroupAndIndex(groupId, index);
            recorded.put(groupId, index);
            durable.put(groupId, index);
        });
    }

    /** Throws, naming the values, unless {@code appliedIndex} may follow the group's current index. */
    public void checkNext(long groupId, long appliedIndex) {
        checkGroupAndIndex(groupId, appliedIndex);
        long current = recorded(groupId);
        if (appliedIndex <= current) {
            throw new IllegalArgumentException("the applied index of group " + groupId + " must grow: it is " + current
                    + ", got " + appliedIndex);
        }
    }

    /** Throws unless the group id and index are valid at all (the index of a restore need not grow). */
    public static void checkGroupAndIndex(long groupId, long appliedIndex) {
        if (groupId < 0) {
            throw new IllegalArgumentException("groupId must not be negative, got " + groupId);
        }
        if (appliedIndex < 1) {
            throw new IllegalArgumentException("appliedIndex must be positive, got " + appliedIndex + " for group " + groupId);
        }
    }

    public long recorded(long groupId) {
        return recorded.getOrDefault(groupId, 0L);
    }

    public long durable(long groupId) {
        return durable.getOrDefault(groupId, 0L);
    }

    /** The engine stored {@code appliedIndex}; {@code synced} says whether it is already durable. */
    public void record(long groupId, long appliedIndex, boolean synced) {
        recorded.put(groupId, appliedIndex);
        if (synced) {
            durable.put(groupId, appliedIndex);
        }
    }

    /** The recorded indexes as they are now, to pass to {@link #markDurable} once a sync covering them returned. */
    public Map<Long, Long> copyRecorded() {
        return new HashMap<>(recorded);
    }

    /** A sync returned that covers every index in {@code synced}. */
    public void markDurable(Map<Long, Long> synced) {
        synced.forEach((groupId, index) -> durable.merge(groupId, index, Math::max));
    }

    /** After a restore: only {@code groupId} keeps an index, durable when {@code synced}. */
    public void resetTo(long groupId, long appliedIndex, boolean synced) {
        recorded.clear();
        durable.clear();
        if (groupId >= 0) {
            record(groupId, appliedIndex, synced);
        }
    }
}
