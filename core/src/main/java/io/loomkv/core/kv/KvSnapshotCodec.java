package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.CachedReply;
import io.loomkv.core.kv.proto.DataChunk;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.SessionState;
import io.loomkv.core.kv.proto.SnapshotHeader;
import io.loomkv.core.kv.proto.SnapshotRecord;
import io.loomkv.core.kv.proto.SnapshotTrailer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes the state machine's snapshot stream (see {@code SnapshotRecord} in
 * kv.proto): header, sessions with their cached replies, data chunks in key order, trailer with
 * counts and a CRC32C of everything before it.
 */
final class KvSnapshotCodec {

    static final int FORMAT_VERSION = 1;
    /** A data chunk is cut once its keys and values reach this size. */
    static final int DATA_CHUNK_TARGET_BYTES = 1024 * 1024;
    /** Room for protobuf framing and reply messages on top of keys and values. */
    private static final int RECORD_OVERHEAD_BYTES = 64 * 1024;
    private static final int READ_BUFFER_BYTES = 64 * 1024;

    private KvSnapshotCodec() {}

    /**
     * The largest record a snapshot under {@code limits} may hold: a full data chunk plus one
     * more entry (the chunk is cut after it passes the target), or a cached reply carrying one
     * value, whichever is larger, plus framing.
     */
    static int maxRecordBytes(KvLimits limits) {
        long bytes = (long) DATA_CHUNK_TARGET_BYTES + limits.maxKeyBytes() + limits.maxValueBytes()
                + RECORD_OVERHEAD_BYTES;
        return (int) Math.min(Integer.MAX_VALUE - 8, bytes);
    }

    static void write(KvStateMachine machine, OutputStream out) throws IOException {
        SnapshotRecordWriter writer = new SnapshotRecordWriter(out, maxRecordBytes(machine.limits()));
        SessionTable sessions = machine.sessions();
        writer.write(SnapshotRecord.newBuilder().setHeader(SnapshotHeader.newBuilder()
                        .setFormatVersion(FORMAT_VERSION)
                        .setLastAppliedIndex(machine.lastAppliedIndex())
                        .setClockMillis(machine.clockMillis())
                        .setNextClientId(sessions.nextClientId()))
                .build());
        long sessionCount = 0;
        for (SessionTable.Session session : sessions.inLruOrder()) {
            writer.write(SnapshotRecord.newBuilder().setSession(session.toState()).build());
            for (CachedReply reply : session.cachedReplies()) {
                writer.write(SnapshotRecord.newBuilder().setCachedReply(reply).build());
            }
            sessionCount++;
        }
        ChunkWriter chunks = new ChunkWriter(writer);
        try {
            machine.engine().scan(ByteString.EMPTY, ByteString.EMPTY, chunks);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        chunks.flush();
        writer.write(SnapshotRecord.newBuilder().setTrailer(SnapshotTrailer.newBuilder()
                        .setSessionCount(sessionCount)
                        .setEntryCount(chunks.entryCount)
                        .setCrc32C(writer.crc32c()))
                .build());
    }

    static void read(InputStream in, KvStateMachine machine) throws IOException {
        SnapshotRecordReader reader = new SnapshotRecordReader(
                new BufferedInputStream(in, READ_BUFFER_BYTES), maxRecordBytes(machine.limits()));
        SnapshotRecord first = reader.next();
        if (first == null) {
            throw new CorruptSnapshotException("snapshot stream is empty");
        }
        if (!first.hasHeader()) {
            throw new CorruptSnapshotException("snapshot starts with " + first.getRecordCase() + ", not a header");
        }
        readHeader(first.getHeader(), machine);
        long sessionCount = 0;
        long entryCount = 0;
        boolean inData = false;
        ByteString previousKey = null;
        while (true) {
            SnapshotRecord record = reader.next();
            if (record == null) {
                throw new CorruptSnapshotException("snapshot truncated: the stream ends before the trailer");
            }
            switch (record.getRecordCase()) {
                case SESSION -> {
                    if (inData) {
                        throw corrupt(reader, "a session after the data");
                    }
                    readSession(record.getSession(), reader, machine);
                    sessionCount++;
                }
                case DATA -> {
                    inData = true;
                    previousKey = readChunk(record.getData(), previousKey, reader, machine.engine());
                    entryCount += record.getData().getEntriesCount();
                }
                case TRAILER -> {
                    checkTrailer(record.getTrailer(), sessionCount, entryCount, reader);
                    if (reader.next() != null) {
                        throw corrupt(reader, "data after the trailer");
                    }
                    return;
                }
                case HEADER, CACHED_REPLY, RECORD_NOT_SET -> throw corrupt(reader,
                        "unexpected " + record.getRecordCase() + " record");
            }
        }
    }

    private static void readHeader(SnapshotHeader header, KvStateMachine machine) throws CorruptSnapshotException {
        if (header.getFormatVersion() != FORMAT_VERSION) {
            throw new CorruptSnapshotException("snapshot format version " + header.getFormatVersion()
                    + " is not the supported version " + FORMAT_VERSION);
        }
        if (header.getLastAppliedIndex() < 0 || header.getClockMillis() < 0 || header.getNextClientId() <= 0) {
            throw new CorruptSnapshotException("snapshot header is invalid: " + header);
        }
        machine.restoreHeader(header.getLastAppliedIndex(), header.getClockMillis(), header.getNextClientId());
    }

    private static void readSession(SessionState state, SnapshotRecordReader reader, KvStateMachine machine)
            throws IOException {
        int maxReplies = machine.sessionPolicy().maxUnacknowledgedReplies();
        if (state.getReplyCount() < 0 || state.getReplyCount() > maxReplies) {
            throw corrupt(reader, "session " + state.getClientId() + " announces "
                    + Integer.toUnsignedString(state.getReplyCount()) + " replies, over " + maxReplies);
        }
        if (state.getLastActiveMillis() > machine.clockMillis()) {
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
            machine.sessions().restore(state, replies);
        } catch (IllegalArgumentException e) {
            throw corrupt(reader, e.getMessage());
        }
    }

    private static ByteString readChunk(DataChunk chunk, ByteString previousKey, SnapshotRecordReader reader,
            KvEngine engine) throws CorruptSnapshotException {
        List<KvMutation> puts = new ArrayList<>(chunk.getEntriesCount());
        ByteString previous = previousKey;
        for (KeyValue entry : chunk.getEntriesList()) {
            if (entry.getKey().isEmpty()) {
                throw corrupt(reader, "an empty key");
            }
            if (previous != null && Keys.compare(previous, entry.getKey()) >= 0) {
                throw corrupt(reader, "keys out of order");
            }
            puts.add(new KvMutation.Put(entry.getKey(), entry.getValue()));
            previous = entry.getKey();
        }
        if (puts.isEmpty()) {
            throw corrupt(reader, "an empty data chunk");
        }
        engine.write(puts);
        return previous;
    }

    private static void checkTrailer(SnapshotTrailer trailer, long sessionCount, long entryCount,
            SnapshotRecordReader reader) throws CorruptSnapshotException {
        if (trailer.getCrc32C() != reader.crcBeforeLastRecord()) {
            throw corrupt(reader, "checksum mismatch: trailer says " + Integer.toHexString(trailer.getCrc32C())
                    + ", stream has " + Integer.toHexString(reader.crcBeforeLastRecord()));
        }
        if (trailer.getSessionCount() != sessionCount || trailer.getEntryCount() != entryCount) {
            throw corrupt(reader, "trailer counts " + trailer.getSessionCount() + " sessions / "
                    + trailer.getEntryCount() + " entries, stream has " + sessionCount + " / " + entryCount);
        }
    }

    private static CorruptSnapshotException corrupt(SnapshotRecordReader reader, String what) {
        return new CorruptSnapshotException("corrupt snapshot at offset " + reader.recordOffsetBytes() + ": " + what);
    }

    /** Groups scanned entries into data chunk records of about {@link #DATA_CHUNK_TARGET_BYTES}. */
    private static final class ChunkWriter implements KvEngine.EntryVisitor {
        private final SnapshotRecordWriter writer;
        private DataChunk.Builder chunk = DataChunk.newBuilder();
        private long chunkBytes;
        long entryCount;

        ChunkWriter(SnapshotRecordWriter writer) {
            this.writer = writer;
        }

        @Override
        public boolean visit(ByteString key, ByteString value) {
            chunk.addEntries(KeyValue.newBuilder().setKey(key).setValue(value));
            chunkBytes += key.size() + value.size();
            entryCount++;
            if (chunkBytes >= DATA_CHUNK_TARGET_BYTES) {
                try {
                    flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return true;
        }

        void flush() throws IOException {
            if (chunk.getEntriesCount() == 0) {
                return;
            }
            writer.write(SnapshotRecord.newBuilder().setData(chunk).build());
            chunk = DataChunk.newBuilder();
            chunkBytes = 0;
        }
    }
}
