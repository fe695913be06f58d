package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.AppendResult;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.CompareAndSetResult;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.DeleteResult;
import io.loomkv.core.kv.proto.GetResult;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGet;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.MultiPutResult;
import io.loomkv.core.kv.proto.OpenSessionResult;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.PutResult;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.kv.proto.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The replicated key-value state machine: applies committed commands in log order and serves
 * reads from the applied state.
 *
 * <p>Deterministic: the outcome of {@link #apply} depends only on the state and the command,
 * never on a clock, randomness or the local configuration beyond {@link KvLimits} and
 * {@link SessionPolicy} (which must be the same on every replica). Replies of writes are part
 * of the replicated state (they are cached for deduplication), so every replica produces the
 * same reply for the same log entry.
 *
 * <p>Exactly-once writes (Raft thesis 6.3): a client opens a session (an {@code open_session}
 * command; its client id is handed out by a replicated counter), numbers its writes 1, 2, 3,
 * ... and sends {@code acknowledged_below}, the lowest sequence whose reply it has not received.
 * A session keeps the replies of its writes at or above that mark. A write is handled as:
 * <ol>
 *   <li>unknown session (expired, evicted or never opened): {@code SESSION_EXPIRED}, not applied;</li>
 *   <li>sequence below the acknowledged mark: {@code STALE_SEQUENCE}, not applied (the client
 *       already has its reply, so this is a late duplicate);</li>
 *   <li>sequence with a cached reply: that reply again, not applied again (a retry, e.g. after a
 *       leader change put the same command into the log twice);</li>
 *   <li>otherwise applied once and its reply cached.</li>
 * </ol>
 * A client that sends one write at a time and sets {@code acknowledged_below = sequence} has the
 * classic "last sequence and its reply" table; a pipelining client may have up to
 * {@link SessionPolicy#maxUnacknowledgedReplies()} writes in flight, applied in any log order.
 *
 * <p>Not thread-safe: one apply thread owns it. Reads for ReadIndex must be called on that
 * thread (or otherwise serialised with apply) once {@link #lastAppliedIndex()} has reached the
 * read index.
 */
public final class KvStateMachine {

    private final KvEngine engine;
    private final KvLimits limits;
    private final SessionPolicy sessionPolicy;
    private final KvValidator validator;
    private final SessionTable sessions;
    private long lastAppliedIndex;
    private long clockMillis;

    /** A state machine over an empty engine, at log index 0. */
    public KvStateMachine(KvEngine engine, KvLimits limits, SessionPolicy sessionPolicy) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.sessionPolicy = Objects.requireNonNull(sessionPolicy, "sessionPolicy");
        if (!engine.isEmpty()) {
            throw new IllegalArgumentException("a new state machine needs an empty engine; restore a snapshot instead");
        }
        this.validator = new KvValidator(limits);
        this.sessions = new SessionTable(sessionPolicy);
    }

    /**
     * Restores a state machine written by {@link #writeSnapshot} into {@code emptyEngine}. The
     * caller swaps it in only when this returns; on any failure it discards {@code emptyEngine}
     * and its current state machine stays as it was.
     *
     * @throws CorruptSnapshotException when the stream is truncated, fails its checksum, or holds
     *     records that are out of order, over the size bound or inconsistent
     * @throws IOException when reading the stream fails
     */
    public static KvStateMachine restore(InputStream in, KvEngine emptyEngine, KvLimits limits,
            SessionPolicy sessionPolicy) throws IOException {
        KvStateMachine restored = new KvStateMachine(emptyEngine, limits, sessionPolicy);
        KvSnapshotCodec.read(in, restored);
        return restored;
    }

    /**
     * Writes the whole state (last applied index, log clock, sessions with their cached replies,
     * all data) as a stream of length-prefixed records. Does not close or flush {@code out}.
     * Must not run concurrently with apply.
     */
    public void writeSnapshot(OutputStream out) throws IOException {
        KvSnapshotCodec.write(this, out);
    }

    /**
     * Applies one committed log entry whose data is an encoded {@link CommandBatch}; returns one
     * reply per command, in order. Data that does not parse is refused identically on every
     * replica: the index counts as applied and a single {@code INVALID_ARGUMENT} reply is returned.
     */
    public List<KvReply> applyEntry(long index, ByteString data) {
        CommandBatch batch;
        try {
            batch = CommandBatch.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            beginApply(index);
            return List.of(KvReplies.invalidArgument("log entry " + index + " does not parse as a CommandBatch"));
        }
        return apply(index, batch);
    }

    /** Applies the commands of one committed log entry, in order; one reply per command. */
    public List<KvReply> apply(long index, CommandBatch batch) {
        beginApply(index);
        List<KvReply> replies = new ArrayList<>(batch.getCommandsCount());
        for (Command command : batch.getCommandsList()) {
            replies.add(applyCommand(command));
        }
        return replies;
    }

    /** Applies a committed log entry holding one command. */
    public KvReply apply(long index, Command command) {
        beginApply(index);
        return applyCommand(command);
    }

    /** Records that the entry at {@code index} carries no command (an empty or a configuration entry). */
    public void skip(long index) {
        beginApply(index);
    }

    /** Serves a get, multi-get or scan from the applied state. Writes are refused. */
    public KvReply read(KvRequest request) {
        switch (request.getOpCase()) {
            case GET, MULTI_GET, SCAN -> { }
            default -> {
                return KvReplies.invalidArgument(request.getOpCase() + " is not a read; writes go through the log");
            }
        }
        Optional<String> error = validator.checkRequest(request);
        if (error.isPresent()) {
            return KvReplies.invalidArgument(error.get());
        }
        return switch (request.getOpCase()) {
            case GET -> get(request.getGet().getKey());
            case MULTI_GET -> multiGet(request.getMultiGet());
            case SCAN -> scan(request.getScan());
            default -> throw new IllegalStateException("unreachable: " + request.getOpCase());
        };
    }

    /** The validator with this state machine's limits, for the service to check requests on arrival. */
    public KvValidator validator() {
        return validator;
    }

    public long lastAppliedIndex() {
        return lastAppliedIndex;
    }

    /** The log clock: the largest command timestamp applied so far. */
    public long clockMillis() {
        return clockMillis;
    }

    public int sessionCount() {
        return sessions.size();
    }

    public KvLimits limits() {
        return limits;
    }

    public SessionPolicy sessionPolicy() {
        return sessionPolicy;
    }

    // ----------------------------------------------------------------------------------------
    // Package-private access for the snapshot codec.

    KvEngine engine() {
        return engine;
    }

    SessionTable sessions() {
        return sessions;
    }

    void restoreHeader(long index, long clock, long nextClientId) {
        if (lastAppliedIndex != 0 || sessions.size() != 0 || !engine.isEmpty()) {
            throw new IllegalStateException("restoreHeader on a state machine that is not fresh");
        }
        lastAppliedIndex = index;
        clockMillis = clock;
        sessions.restoreNextClientId(nextClientId);
    }

    // ----------------------------------------------------------------------------------------
    // Writes.

    private void beginApply(long index) {
        if (index <= lastAppliedIndex) {
            throw new IllegalStateException("apply of index " + index + " at or below last applied index "
                    + lastAppliedIndex + ": entries must be applied once, in log order");
        }
        lastAppliedIndex = index;
    }

    private KvReply applyCommand(Command command) {
        Optional<String> error = validator.checkCommand(command);
        if (error.isPresent()) {
            return KvReplies.invalidArgument(error.get());
        }
        clockMillis = Math.max(clockMillis, command.getTimestampMillis());
        sessions.expire(clockMillis);
        if (command.hasOpenSession()) {
            SessionTable.Session opened = sessions.open(clockMillis);
            return ok().setOpenSession(OpenSessionResult.newBuilder().setClientId(opened.clientId)).build();
        }
        SessionTable.Session session = sessions.find(command.getClientId());
        if (session == null) {
            return KvReplies.error(Status.SESSION_EXPIRED, "session " + command.getClientId()
                    + " is unknown (expired, evicted or never opened); the write was not applied");
        }
        sessions.touch(session, clockMillis);
        session.acknowledge(command.getAcknowledgedBelow());
        long sequence = command.getSequence();
        if (sequence < session.acknowledgedBelow) {
            return KvReplies.error(Status.STALE_SEQUENCE, "sequence " + sequence + " of session "
                    + session.clientId + " is below acknowledged " + session.acknowledgedBelow
                    + ": its reply was already delivered; not applied again");
        }
        KvReply cached = session.replies.get(sequence);
        if (cached != null) {
            return cached;
        }
        if (session.replies.size() >= sessionPolicy.maxUnacknowledgedReplies()) {
            return KvReplies.error(Status.RESOURCE_EXHAUSTED, "session " + session.clientId + " has "
                    + session.replies.size() + " unacknowledged replies, the maximum; not applied");
        }
        KvReply reply = execute(command);
        session.replies.put(sequence, reply);
        return reply;
    }

    private KvReply execute(Command command) {
        return switch (command.getOpCase()) {
            case PUT -> put(command.getPut());
            case APPEND -> append(command.getAppend());
            case DELETE -> delete(command.getDelete());
            case COMPARE_AND_SET -> compareAndSet(command.getCompareAndSet());
            case MULTI_PUT -> multiPut(command.getMultiPut());
            case OPEN_SESSION, OP_NOT_SET -> throw new IllegalStateException(
                    "unreachable: " + command.getOpCase() + " passed validation as a session write");
        };
    }

    private KvReply put(Put put) {
        boolean existed = engine.get(put.getKey()).isPresent();
        engine.write(List.of(new KvMutation.Put(put.getKey(), put.getValue())));
        return ok().setPut(PutResult.newBuilder().setExisted(existed)).build();
    }

    private KvReply append(Append append) {
        ByteString current = engine.get(append.getKey()).orElse(ByteString.EMPTY);
        long newLengthBytes = (long) current.size() + append.getValue().size();
        if (newLengthBytes > limits.maxValueBytes()) {
            return KvReplies.invalidArgument("append would make the value " + newLengthBytes
                    + " bytes, over maxValueBytes " + limits.maxValueBytes());
        }
        engine.write(List.of(new KvMutation.Put(append.getKey(), current.concat(append.getValue()))));
        return ok().setAppend(AppendResult.newBuilder().setNewLengthBytes(newLengthBytes)).build();
    }

    private KvReply delete(Delete delete) {
        boolean existed = engine.get(delete.getKey()).isPresent();
        if (existed) {
            engine.write(List.of(new KvMutation.Delete(delete.getKey())));
        }
        return ok().setDelete(DeleteResult.newBuilder().setExisted(existed)).build();
    }

    private KvReply compareAndSet(CompareAndSet cas) {
        Optional<ByteString> current = engine.get(cas.getKey());
        boolean matches = cas.hasExpectAbsent()
                ? current.isEmpty()
                : current.isPresent() && current.get().equals(cas.getExpectedValue());
        if (!matches) {
            CompareAndSetResult.Builder result = CompareAndSetResult.newBuilder()
                    .setSwapped(false)
                    .setCurrentPresent(current.isPresent());
            current.ifPresent(result::setCurrentValue);
            return KvReply.newBuilder()
                    .setStatus(Status.CAS_FAILED)
                    .setMessage(current.isPresent() ? "current value differs" : "key is absent")
                    .setCompareAndSet(result)
                    .build();
        }
        engine.write(List.of(new KvMutation.Put(cas.getKey(), cas.getNewValue())));
        return ok().setCompareAndSet(CompareAndSetResult.newBuilder()
                        .setSwapped(true)
                        .setCurrentPresent(true)
                        .setCurrentValue(cas.getNewValue()))
                .build();
    }

    private KvReply multiPut(MultiPut multiPut) {
        List<KvMutation> mutations = new ArrayList<>(multiPut.getEntriesCount());
        for (KeyValue entry : multiPut.getEntriesList()) {
            mutations.add(new KvMutation.Put(entry.getKey(), entry.getValue()));
        }
        engine.write(mutations);
        return ok().setMultiPut(MultiPutResult.newBuilder().setWritten(mutations.size())).build();
    }

    // ----------------------------------------------------------------------------------------
    // Reads.

    private KvReply get(ByteString key) {
        Optional<ByteString> value = engine.get(key);
        if (value.isEmpty()) {
            return KvReply.newBuilder().setStatus(Status.NOT_FOUND).setMessage("key not found").build();
        }
        return ok().setGet(GetResult.newBuilder().setValue(value.get())).build();
    }

    private KvReply multiGet(MultiGet multiGet) {
        MultiGetResult.Builder result = MultiGetResult.newBuilder();
        long replyBytes = 0;
        for (ByteString key : multiGet.getKeysList()) {
            Optional<ByteString> value = engine.get(key);
            MultiGetEntry.Builder entry = MultiGetEntry.newBuilder().setKey(key).setFound(value.isPresent());
            value.ifPresent(entry::setValue);
            replyBytes += key.size() + value.map(ByteString::size).orElse(0);
            if (replyBytes > limits.maxReplyBytes()) {
                return KvReplies.error(Status.RESOURCE_EXHAUSTED, "multi_get reply would exceed maxReplyBytes "
                        + limits.maxReplyBytes() + "; ask for fewer keys");
            }
            result.addEntries(entry);
        }
        return ok().setMultiGet(result).build();
    }

    private KvReply scan(Scan scan) {
        ByteString start;
        ByteString end;
        if (scan.hasPrefix()) {
            start = scan.getPrefix();
            end = Keys.prefixEnd(scan.getPrefix());
        } else {
            start = scan.getRange().getStart();
            end = scan.getRange().getEnd();
        }
        if (!scan.getResumeAfter().isEmpty()) {
            ByteString next = Keys.successor(scan.getResumeAfter());
            if (Keys.compare(next, start) > 0) {
                start = next;
            }
        }
        ScanResult.Builder result = ScanResult.newBuilder();
        if (!end.isEmpty() && Keys.compare(start, end) >= 0) {
            return ok().setScan(result).build();
        }
        int limit = scan.getLimit() == 0 ? limits.defaultScanLimit() : scan.getLimit();
        ScanCollector collector = new ScanCollector(result, limit, limits.maxReplyBytes());
        engine.scan(start, end, collector);
        if (collector.more) {
            result.setMore(true).setContinuation(collector.lastKey);
        }
        return ok().setScan(result).build();
    }

    /** Collects one scan page; stops at the limit or the byte budget, noting whether more keys follow. */
    private static final class ScanCollector implements KvEngine.EntryVisitor {
        private final ScanResult.Builder result;
        private final int limit;
        private final long maxBytes;
        private long bytes;
        private boolean more;
        private ByteString lastKey = ByteString.EMPTY;

        ScanCollector(ScanResult.Builder result, int limit, long maxBytes) {
            this.result = result;
            this.limit = limit;
            this.maxBytes = maxBytes;
        }

        @Override
        public boolean visit(ByteString key, ByteString value) {
            long entryBytes = (long) key.size() + value.size();
            int count = result.getEntriesCount();
            if (count >= limit || (count > 0 && bytes + entryBytes > maxBytes)) {
                more = true;
                return false;
            }
            result.addEntries(KeyValue.newBuilder().setKey(key).setValue(value));
            bytes += entryBytes;
            lastKey = key;
            return true;
        }
    }

    private static KvReply.Builder ok() {
        return KvReply.newBuilder().setStatus(Status.OK);
    }
}
