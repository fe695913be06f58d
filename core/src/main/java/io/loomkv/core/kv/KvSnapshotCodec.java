package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.kv.proto.CachedReply;
import io.loomkv.core.kv.proto.DataChunk;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.MigrationState;
import io.loomkv.core.kv.proto.SessionState;
import io.loomkv.core.kv.proto.SnapshotHeader;
import io.loomkv.core.kv.proto.SnapshotRecord;
import io.loomkv.core.kv.proto.SnapshotTrailer;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.controller.ShardController;
import io.loomkv.core.shard.controller.proto.ControllerSnapshot;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Encodes and decodes the state machine's snapshot stream (see {@code SnapshotRecord} in
 * kv.proto): header, sessions with their cached replies, data chunks in engine-key order, trailer
 * with counts and a CRC32C of everything before it. The data keys are the engine's slot-prefixed
 * keys ({@link SlotKeys}), checked on the way in: well formed, stored under the slot their user
 * key hashes to, strictly ascending.
 */
final class KvSnapshotCodec {

    /**
     * Version 2: data keys are engine keys, slot-prefixed ({@link SlotKeys}), and session ids
     * carry the group. Version 1 held bare user keys and is refused: reading its keys as engine
     * keys would file them under the wrong slots.
     */
    static final int FORMAT_VERSION = 2;
    private static final int FORMAT_VERSION_BEFORE_SLOTS = 1;
    /** A data chunk is cut once its keys and values reach this size. */
    static final int DATA_CHUNK_TARGET_BYTES = 1024 * 1024;
    /** Room for protobuf framing and reply messages on top of keys and values. */
    private static final int RECORD_OVERHEAD_BYTES = 64 * 1024;
    private static final int READ_BUFFER_BYTES = 64 * 1024;

    private KvSnapshotCodec() {}

    /** What a successful read produced, besides the data already loaded into the engine. */
    /** {@code migration} is null for group 0 and for snapshots written before slot migration existed. */
    record Restored(long lastAppliedIndex, long clockMillis, SessionTable sessions, ShardController controller,
            MigrationState migration) {}

    /**
     * Loads the snapshot's data into the engine, all or nothing. It gets the header's values and
     * the sessions already read (a persistent engine stores them with the data), and must consume
     * {@code data} to its end: the end is where the trailer's checks happen.
     */
    @FunctionalInterface
    interface DataLoader {
        void load(Iterator<io.loomkv.core.engine.KeyValue> data, long lastAppliedIndex, long clockMillis,
                SessionTable sessions, MigrationState migration);
    }

    /**
     * The largest record a snapshot under {@code limits} may hold: a full data chunk plus one
     * more entry (the chunk is cut after it passes the target), which also covers a cached reply
     * carrying one value, plus framing.
     */
    static int maxRecordBytes(KvLimits limits) {
        long bytes = (long) DATA_CHUNK_TARGET_BYTES + limits.maxKeyBytes() + limits.maxValueBytes()
                + RECORD_OVERHEAD_BYTES;
        return (int) Math.min(Integer.MAX_VALUE - 8, bytes);
    }

    static void write(OutputStream out, KvLimits limits, long lastAppliedIndex, long clockMillis, long nextClientId,
            List<SessionState> sessions, List<List<CachedReply>> cachedReplies, ControllerSnapshot controller,
            MigrationState migration, Iterator<io.loomkv.core.engine.KeyValue> data) throws IOException {
        SnapshotRecordWriter writer = new SnapshotRecordWriter(out, maxRecordBytes(limits));
        writer.write(SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                        .setFormatVersion(FORMAT_VERSION)
                        .setLastAppliedIndex(lastAppliedIndex)
                        .setClockMillis(clockMillis)
                        .setNextClientId(nextClientId))
                .build());
        for (int i = 0; i < sessions.size(); i++) {
            writer.write(SnapshotRecord.newBuilder().setSession(sessions.get(i)).build());
            for (CachedReply reply : cachedReplies.get(i)) {
                writer.write(SnapshotRecord.newBuilder().setCachedReply(reply).build());
            }
        }
        if (migration != null) {
            writer.write(SnapshotRecord.newBuilder().setMigration(migration).build());
        }
        if (controller != null) {
            writer.write(SnapshotRecord.newBuilder().setController(controller).build());
        }
        long entryCount = 0;
        DataChunk.Builder chunk = DataChunk.newBuilder();
        long chunkBytes = 0;
        while (data.hasNext()) {
            io.loomkv.core.engine.KeyValue entry = data.next();
            chunk.addEntries(KeyValue.newBuilder()
                    .setKey(UnsafeByteOperations.unsafeWrap(entry.key()))
                    .setValue(UnsafeByteOperations.unsafeWrap(entry.value())));
            chunkBytes += entry.key().length + entry.value().length;
            entryCount++;
            if (chunkBytes >= DATA_CHUNK_TARGET_BYTES) {
                writer.write(SnapshotRecord.newBuilder().setData(chunk).build());
                chunk = DataChunk.newBuilder();
                chunkBytes = 0;
            }
        }
        if (chunk.getEntriesCount() > 0) {
            writer.write(SnapshotRecord.newBuilder().setData(chunk).build());
        }
        writer.write(SnapshotRecord.newBuilder().setTrailer(SnapshotTrailer.newBuilder()
                        .setSessionCount(sessions.size())
                        .setEntryCount(entryCount)
                        .setCrc32C(writer.crc32c()))
                .build());
    }

    /**
     * Reads a whole snapshot stream, loading the data into {@code engine} through its
     * all-or-nothing restore. The data iterator validates as it goes and checks the trailer
     * before it reports its end, so the engine only commits a stream that checked out.
     */
    static Restored read(InputStream in, KvLimits limits, SessionPolicy policy, long groupId, KvEngine engine)
            throws IOException {
        return read(in, limits, policy, groupId, (data, index, clock, sessions, migration) -> engine.restore(data));
    }

    /** As {@link #read(InputStream, KvLimits, SessionPolicy, long, KvEngine)}, loading through {@code loader}. */
    static Restored read(InputStream in, KvLimits limits, SessionPolicy policy, long groupId, DataLoader loader)
            throws IOException {
        SnapshotRecordReader reader = new SnapshotRecordReader(
                new BufferedInputStream(in, READ_BUFFER_BYTES), maxRecordBytes(limits));
        SnapshotRecord first = reader.next();
        if (first == null) {
            throw new CorruptSnapshotException("snapshot stream is empty");
        }
        if (!first.hasHeader()) {
            throw new CorruptSnapshotException("snapshot starts with " + first.getRecordCase() + ", not a header");
        }
        SnapshotHeader header = checkHeader(first.getHeader());
        SessionTable sessions = new SessionTable(policy, groupId);
        try {
            sessions.restoreNextClientId(header.getNextClientId());
        } catch (IllegalArgumentException e) {
            throw new CorruptSnapshotException("snapshot header does not fit group " + groupId + ": " + e.getMessage(), e);
        }
        long sessionCount = 0;
        SnapshotRecord record = reader.next();
        while (record != null && record.hasSession()) {
            readSession(record.getSession(), reader, sessions, policy, header.getClockMillis());
            sessionCount++;
            record = reader.next();
        }
        MigrationState migration = null;
        if (record != null && record.hasMigration()) {
            if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
                throw new CorruptSnapshotException("snapshot of group 0 holds slot ownership");
            }
            migration = record.getMigration();
            try {
                SlotOwnership.fromProto(migration.getOwnership());
                sessions.restoreFloors(migration.getFloorsList());
            } catch (IllegalArgumentException e) {
                throw new CorruptSnapshotException("snapshot holds a bad slot ownership: " + e.getMessage(), e);
            }
            record = reader.next();
        }
        ShardController controller = null;
        if (record != null && record.hasController()) {
            if (groupId != GroupIds.CONTROLLER_GROUP_ID) {
                throw new CorruptSnapshotException("snapshot of data group " + groupId + " holds shard controller state");
            }
            try {
                controller = ShardController.restore(record.getController());
            } catch (IllegalArgumentException e) {
                throw new CorruptSnapshotException("snapshot holds a bad shard controller state: " + e.getMessage(), e);
            }
            record = reader.next();
        } else if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
            throw new CorruptSnapshotException("snapshot of group 0 holds no shard controller state");
        }
        DataIterator data = new DataIterator(reader, record, sessionCount);
        try {
            loader.load(data, header.getLastAppliedIndex(), header.getClockMillis(), sessions, migration);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (!data.finished) {
            throw new IllegalStateException("the engine's restore returned before consuming the snapshot's data");
        }
        return new Restored(header.getLastAppliedIndex(), header.getClockMillis(), sessions, controller, migration);
    }

    private static SnapshotHeader checkHeader(SnapshotHeader header) throws CorruptSnapshotException {
        if (header.getFormatVersion() == FORMAT_VERSION_BEFORE_SLOTS) {
            throw new CorruptSnapshotException("snapshot format version " + FORMAT_VERSION_BEFORE_SLOTS
                    + " stores keys without their slot and cannot be restored by this version (format "
                    + FORMAT_VERSION + "); the data directory predates sharding");
        }
        if (header.getFormatVersion() != FORMAT_VERSION) {
            throw new CorruptSnapshotException("snapshot format version " + header.getFormatVersion()
                    + " is not the supported version " + FORMAT_VERSION);
        }
        if (header.getLastAppliedIndex() < 0 || header.getClockMillis() < 0 || header.getNextClientId() <= 0) {
            throw new CorruptSnapshotException("snapshot header is invalid: " + header);
        }
        return header;
    }

    private static void readSession(SessionState state, SnapshotRecordReader reader, SessionTable sessions,
            SessionPolicy policy, long clockMillis) throws IOException {
        int maxReplies = policy.maxUnacknowledgedReplies();
        if (state.getReplyCount() < 0 || state.getReplyCount() > maxReplies) {
            throw corrupt(reader, "session " + state.getClientId() + " announces "
                    + Integer.toUnsignedString(state.getReplyCount()) + " replies, over " + maxReplies);
        }
        if (state.getLastActiveMillis() > clockMillis) {
            throw corrupt(reader, "session " + state.getClientId() + " was active after the snapshot's clock");
        }
        List<CachedReply> replies = new ArrayList<>(state.getReplyCount());
        for (int i = 0; i < state.getReplyCount(); i++) {
            SnapshotRecord record = reader.next();
            if (record == null) {
                throw new CorruptSnapshotException("snapshot truncated inside the replies of session "
                        + state.getClientId());
            }
            if (!record.hasCachedReply()) {
                throw corrupt(reader, "expected a cached reply of session " + state.getClientId()
                        + ", found " + record.getRecordCase());
            }
            replies.add(record.getCachedReply());
        }
        try {
            sessions.restore(state, replies);
        } catch (IllegalArgumentException e) {
            throw corrupt(reader, e.getMessage());
        }
    }

    private static CorruptSnapshotException corrupt(SnapshotRecordReader reader, String what) {
        return new CorruptSnapshotException("corrupt snapshot at offset " + reader.recordOffsetBytes() + ": " + what);
    }

    /**
     * The data records as engine entries, checked on the way: well-formed engine keys
     * ({@link SlotKeys#checkEngineKey}) and key deadlines ({@link DeadlineKeys#checkEntry}), strictly ascending, nothing but data before the trailer,
     * trailer counts and checksum right, nothing after it. Failures surface as UncheckedIOException wrapping a CorruptSnapshotException,
     * since Iterator cannot throw checked exceptions.
     */
    private static final class DataIterator implements Iterator<io.loomkv.core.engine.KeyValue> {
        private final SnapshotRecordReader reader;
        private final long sessionCount;
        private final ArrayDeque<io.loomkv.core.engine.KeyValue> buffered = new ArrayDeque<>();
        private SnapshotRecord pending;
        private boolean pendingUsed;
        private ByteString previousKey;
        private long entryCount;
        boolean finished;

        DataIterator(SnapshotRecordReader reader, SnapshotRecord firstAfterSessions, long sessionCount) {
            this.reader = reader;
            this.pending = firstAfterSessions;
            this.sessionCount = sessionCount;
        }

        @Override
        public boolean hasNext() {
            try {
                while (buffered.isEmpty() && !finished) {
                    advance();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return !buffered.isEmpty();
        }

        @Override
        public io.loomkv.core.engine.KeyValue next() {
            if (!hasNext()) {
                throw new NoSuchElementException("no more snapshot entries");
            }
            return buffered.removeFirst();
        }

        private void advance() throws IOException {
            SnapshotRecord record;
            if (!pendingUsed) {
                record = pending;
                pendingUsed = true;
                pending = null;
            } else {
                record = reader.next();
            }
            if (record == null) {
                throw new CorruptSnapshotException("snapshot truncated: the stream ends before the trailer");
            }
            switch (record.getRecordCase()) {
                case DATA -> bufferChunk(record.getData());
                case TRAILER -> {
                    checkTrailer(record.getTrailer());
                    if (reader.next() != null) {
                        throw corrupt(reader, "data after the trailer");
                    }
                    finished = true;
                }
                case HEADER, SESSION, CACHED_REPLY, RECORD_NOT_SET -> throw corrupt(reader,
                        "unexpected " + record.getRecordCase() + " record among the data");
            }
        }

        private void bufferChunk(DataChunk chunk) throws CorruptSnapshotException {
            if (chunk.getEntriesCount() == 0) {
                throw corrupt(reader, "an empty data chunk");
            }
            for (KeyValue entry : chunk.getEntriesList()) {
                ByteString key = entry.getKey();
                byte[] keyBytes = key.toByteArray();
                byte[] valueBytes = entry.getValue().toByteArray();
                String malformed = DeadlineKeys.isDeadlineKey(keyBytes)
                        ? DeadlineKeys.checkEntry(keyBytes, valueBytes) : SlotKeys.checkEngineKey(keyBytes);
                if (malformed != null) {
                    throw corrupt(reader, "key " + entryCount + ": " + malformed);
                }
                if (previousKey != null && KvKeys.compare(previousKey, key) >= 0) {
                    throw corrupt(reader, "keys out of order");
                }
                buffered.addLast(new io.loomkv.core.engine.KeyValue(keyBytes, valueBytes));
                previousKey = key;
                entryCount++;
            }
        }

        private void checkTrailer(SnapshotTrailer trailer) throws CorruptSnapshotException {
            if (trailer.getCrc32C() != reader.crcBeforeLastRecord()) {
                throw corrupt(reader, "checksum mismatch: trailer says " + Integer.toHexString(trailer.getCrc32C())
                        + ", stream has " + Integer.toHexString(reader.crcBeforeLastRecord()));
            }
            if (trailer.getSessionCount() != sessionCount || trailer.getEntryCount() != entryCount) {
                throw corrupt(reader, "trailer counts " + trailer.getSessionCount() + " sessions / "
                        + trailer.getEntryCount() + " entries, stream has " + sessionCount + " / " + entryCount);
            }
        }
    }
}
