package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * SCAN cursors. Redis clients parse a cursor as an unsigned 64-bit number (redis-py and redis-cli
 * do), but a loomkv scan resumes after a key of any length, so the gateway hands out a random
 * number per resume position and remembers the key behind it. Shared by all connections, since a
 * pooled client may continue a scan on another connection; at most {@code capacity} cursors are
 * kept, the least recently used forgotten first (resuming one of those answers
 * {@code -ERR invalid cursor}).
 */
final class ScanCursors {
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Long, ByteString> resumeAfterByCursor;

    ScanCursors(int capacity) {
        this.resumeAfterByCursor = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, ByteString> eldest) {
                return size() > capacity;
            }
        };
    }

    /** A new cursor (never 0, which starts and ends a scan) that resumes after {@code key}. */
    long remember(ByteString key) {
        lock.lock();
        try {
            long cursor;
            do {
                cursor = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
            } while (resumeAfterByCursor.containsKey(cursor));
            resumeAfterByCursor.put(cursor, key);
            return cursor;
        } finally {
            lock.unlock();
        }
    }

    /** The key cursor {@code cursor} resumes after; empty for 0; {@code -ERR invalid cursor} when unknown. */
    ByteString resumeAfter(long cursor) {
        if (cursor == 0) {
            return ByteString.EMPTY;
        }
        lock.lock();
        try {
            ByteString key = resumeAfterByCursor.get(cursor);
            if (key == null) {
                throw RespError.err("invalid cursor");
            }
            return key;
        } finally {
            lock.unlock();
        }
    }
}
