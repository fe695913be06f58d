package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.AppendResult;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.CompareAndSetResult;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.DeleteResult;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireResult;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.GetResult;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationState;
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
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.ShardController;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Iterator;
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
 *   <li>otherwise executed once and its reply cached, whatever the outcome: a write refused for
 *       a bad operation (an empty key, an append past the value limit) or for a key in another
 *       group's slot is cached as refused.</li>
 * </ol>
 * A command whose envelope is malformed (no timestamp, bad session fields) is refused before
 * any of this and touches nothing, not even the log clock.
 * A client that sends one write at a time and sets {@code acknowledged_below = sequence} has the
 * classic "last sequence and its reply" table; a pipelining client may have up to
 * {@link SessionPolicy#maxUnacknowledgedReplies()} writes in flight, applied in any log order.
 *
 * <p>Sharding: the machine is the state of one Raft group, which owns a set of slots
 * ({@link io.loomkv.core.shard.Slots}). Keys are stored under their slot ({@link SlotKeys}), so one slot is one
 * contiguous engine range. Ownership is checked per key when a write is applied and when a read
 * is served: a write touching a slot the group does not own gets {@code WRONG_GROUP} and is not
 * executed; that refusal is not cached in its session (it is not the write's outcome: a retry runs
 * if the slot comes back, and a client may give the sequence up, see the client's WriteDoubt);
 * other commands of the same batch go on. Scans return user keys
 * in user-key order across all owned slots by merging one cursor per slot: each page costs one
 * engine seek per owned slot (fewer when slots are empty, none but one when the prefix or range
 * pins a hash tag), then O(log slots) per key; see {@link SlotScan}. Sessions opened
 * here get ids {@code (groupId << 40) + n} ({@link GroupIds}), unique across groups.
 *
 * <p>Group 0 is the shard controller: its machine owns a {@link ShardController} and executes
 * controller commands (exactly once through sessions, like any write) and nothing else; data groups
 * refuse controller commands. The controller's state travels in the group's snapshots.
 *
 * <p>Engines: on the memory engine writes go straight to the engine; on a persistent engine
 * ({@link #onPersistentEngine}) each entry's writes are held in {@link EntryWrites} and written at
 * its end as one indexed batch with the sessions it changed ({@link DurableState}). The class is
 * over 600 lines because the commands, the reads, slot ownership, key deadlines and both engine
 * modes share the session logic and the entry's pending writes (slot migration's commands are out,
 * in {@link SlotMigration}, active expiry in {@link ActiveExpiry}, the deadline rules in
 * {@link Deadlines} and their keys in {@link DeadlineKeys}); the data command handlers with their
 * deadline handling are the part to split out next.
 *
 * <p>Not thread-safe: one apply thread owns it. Reads for ReadIndex must be called on that
 * thread (or otherwise serialised with apply) once {@link #lastAppliedIndex()} has reached the
 * read index. The one exception is {@link #getConcurrently}, a single-key read any thread may make.
 */
public final class KvStateMachine {

    private final KvEngine engine;
    /** The same engine when it is persistent (entries are then written as indexed batches), else null. */
    private final PersistentKvEngine durable;
    /** The current entry's data writes on a persistent engine; null on a memory engine, which is written directly. */
    private final EntryWrites pending;
    private final KvLimits limits;
    private final SessionPolicy sessionPolicy;
    private final KvValidator validator;
    private final long groupId;
    /**
     * The slots this group serves and the ones that move ({@link SlotMigration}); changed by
     * migration commands on the apply thread, replaced as a whole by {@link #restore}, and read by
     * {@link #getConcurrently} on other threads through its published serving set.
     */
    private volatile SlotOwnership ownership;
    /** Group 0's controller state, null in a data group; replaced as a whole by {@link #restore}. */
    private ShardController controller;
    /** Group 0: its newest configuration as applied, for readers on other threads (null before the bootstrap). */
    private volatile SlotLayout latestConfig;
    /** Replaced as a whole by {@link #restore}. */
    private SessionTable sessions;
    private final SlotMigration migration = new SlotMigration(this);
    private final ActiveExpiry activeExpiry = new ActiveExpiry(this);
    /**
     * Whether the engine may hold key deadlines ({@link DeadlineKeys}): false lets every read and
     * write skip the deadline lookup. Set before the first deadline is written, on a restart or
     * restore that finds any, cleared only by a full walk of active expiry that finds none.
     * Volatile for {@link #getConcurrently}.
     */
    private volatile boolean deadlinesMayExist;
    /** On a persistent engine: the ownership and change counts the engine's copy was written from. */
    private SlotOwnership writtenOwnership;
    private long writtenOwnershipChanges;
    private long writtenFloorChanges;
    private long lastAppliedIndex;
    private long clockMillis;

    /**
     * A state machine of group {@code groupId} (0 for the shard controller, which owns no slots,
     * or a data group 1..2^23 - 1 serving {@code ownedSlots}), over an empty engine, at log index 0.
     */
    public KvStateMachine(KvEngine engine, KvLimits limits, SessionPolicy sessionPolicy, long groupId,
            SlotSet ownedSlots) {
        this(engine, null, limits, sessionPolicy, groupId, ownedSlots);
        if (!isEmpty(engine)) {
            throw new IllegalArgumentException("a new state machine needs an empty engine; restore a snapshot instead");
        }
    }

    /**
     * The state machine of data group {@code groupId} on a persistent engine that holds only this
     * group's state, as the engine last made it durable: data, sessions, log clock and applied
     * index all come from the engine (see docs/engines.md), so the caller replays the log only
     * after {@link #lastAppliedIndex()}. A fresh engine gives a state machine at index 0. From now
     * on every applied entry is written as one indexed batch: its data writes, the sessions it
     * changed, the group's clock and next client id, and its index.
     *
     * @throws IllegalArgumentException for group 0 (the controller keeps its state in snapshots
     *     on the memory engine), or when the engine's stored state does not parse or fit the group
     */
    public static KvStateMachine onPersistentEngine(PersistentKvEngine engine, KvLimits limits,
            SessionPolicy sessionPolicy, long groupId, SlotSet ownedSlots) {
        if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
            throw new IllegalArgumentException("group 0, the shard controller, runs on the memory engine");
        }
        KvStateMachine machine = new KvStateMachine(engine, engine, limits, sessionPolicy, groupId, ownedSlots);
        long applied = engine.appliedIndex(groupId);
        if (applied == 0) {
            if (!isEmpty(engine)) {
                throw new IllegalArgumentException("the engine holds keys but no applied index for group " + groupId
                        + ": it belongs to another group or was written without an index");
            }
            return machine;
        }
        machine.loadDurableState(applied);
        return machine;
    }

    private KvStateMachine(KvEngine engine, PersistentKvEngine durable, KvLimits limits, SessionPolicy sessionPolicy,
            long groupId, SlotSet ownedSlots) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.durable = durable;
        this.pending = durable == null ? null : new EntryWrites();
        this.limits = Objects.requireNonNull(limits, "limits");
        this.sessionPolicy = Objects.requireNonNull(sessionPolicy, "sessionPolicy");
        this.groupId = GroupIds.requireGroup(groupId);
        this.ownership = SlotOwnership.initial(Objects.requireNonNull(ownedSlots, "ownedSlots"));
        if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
            if (!ownedSlots.isEmpty()) {
                throw new IllegalArgumentException("group 0, the shard controller, owns no slots; got " + ownedSlots);
            }
            this.controller = new ShardController();
        }
        this.validator = new KvValidator(limits);
        this.sessions = newSessionTable();
    }

    private SessionTable newSessionTable() {
        SessionTable table = new SessionTable(sessionPolicy, groupId);
        if (durable != null) {
            table.trackChanges();
        }
        return table;
    }

    /** Takes the sessions, clock and next client id an earlier run stored with index {@code applied}. */
    private void loadDurableState(long applied) {
        SessionTable table = newSessionTable();
        DurableState.Loaded stored = DurableState.load(engine, table, groupId, applied);
        if (stored.migration() != null) {
            ownership = SlotOwnership.fromProto(stored.migration().getOwnership());
        }
        markMigrationWritten(ownership, table);
        clockMillis = stored.clockMillis();
        sessions = table;
        lastAppliedIndex = applied;
        deadlinesMayExist = engineHoldsDeadlines();
    }

    private boolean engineHoldsDeadlines() {
        return !engine.scan(ScanRequest.range(DeadlineKeys.SPACE_START, DeadlineKeys.SPACE_END, 1)).entries().isEmpty();
    }

    /**
     * Captures the state at the current log index for a snapshot: the session table is copied
     * and the engine gives a point-in-time view, so the returned snapshot may be written out on
     * another thread while apply goes on. Call on the apply thread; close the snapshot when done.
     */
    public KvSnapshot snapshot() {
        return KvSnapshot.capture(lastAppliedIndex, clockMillis, sessions,
                controller == null ? null : controller.snapshot(), migrationState(),
                DurableState.dataOnly(engine.snapshot()), limits);
    }

    /**
     * Writes the whole current state (last applied index, log clock, sessions with their cached
     * replies, all data) as a stream of length-prefixed records: {@link #snapshot()} written out
     * at once. Does not close {@code out}.
     */
    public void writeSnapshot(OutputStream out) throws IOException {
        try (KvSnapshot snapshot = snapshot()) {
            snapshot.writeTo(out);
        }
    }

    /**
     * Replaces the whole state with a snapshot stream written by {@link #writeSnapshot}. The
     * stream is checked completely (sessions, key order, counts, CRC32C) while the data is loaded
     * through the engine's all-or-nothing {@link KvEngine#restore}, and the sessions, index and
     * clock are swapped in only after that succeeds: on any failure the current state is untouched.
     *
     * @throws CorruptSnapshotException when the stream is truncated, fails its checksum, or holds
     *     records that are out of order, over the size bound or inconsistent
     * @throws IOException when reading the stream fails
     */
    public void restore(InputStream in) throws IOException {
        KvSnapshotCodec.Restored restored = durable == null
                ? KvSnapshotCodec.read(in, limits, sessionPolicy, groupId, engine)
                : KvSnapshotCodec.read(in, limits, sessionPolicy, groupId, this::restoreDurable);
        sessions = restored.sessions();
        if (durable != null) {
            sessions.trackChanges();
            sessions.takeChanged();
        }
        if (controller != null) {
            controller = restored.controller();
            latestConfig = controller.latest();
        }
        if (restored.migration() != null) {
            ownership = SlotOwnership.fromProto(restored.migration().getOwnership());
        }
        // A restore wrote the migration state with the data (or the engine has none to keep).
        markMigrationWritten(ownership, sessions);
        lastAppliedIndex = restored.lastAppliedIndex();
        clockMillis = restored.clockMillis();
        deadlinesMayExist = engineHoldsDeadlines();
    }

    /**
     * Applies one committed log entry whose data is an encoded {@link CommandBatch}; returns one
     * reply per command, in order. Data that does not parse is refused identically on every
     * replica: the index counts as applied and a single {@code INVALID_ARGUMENT} reply is returned.
     */
    public List<KvReply> applyEntry(long index, ByteString data) {
        CommandBatch batch;
        try {
            // The values of the parsed commands share the entry's immutable bytes instead of
            // copying them: a put copies its value once, into the engine, and a follower no longer
            // allocates every value of every entry twice (28% of a follower's allocation under 4 KB
            // writes). Nothing the apply keeps refers to a command's bytes (keys become engine
            // keys, values engine arrays; a slot move's resume key and the session replies it
            // imports are copied), so the entry's array is not held past the apply.
            CodedInputStream input = data.newCodedInput();
            input.enableAliasing(true);
            batch = CommandBatch.parser().parseFrom(input);
            input.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            beginApply(index);
            finishApply(index);
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
        finishApply(index);
        return replies;
    }

    /** Applies a committed log entry holding one command. */
    public KvReply apply(long index, Command command) {
        beginApply(index);
        KvReply reply = applyCommand(command);
        finishApply(index);
        return reply;
    }

    /** Records that the entry at {@code index} carries no command (an empty or a configuration entry). */
    public void skip(long index) {
        beginApply(index);
        finishApply(index);
    }

    /**
     * Makes everything applied so far power-loss durable on a persistent engine (nothing to do on
     * the memory engine). Call on the apply thread before the group's log is compacted up to
     * {@link #lastAppliedIndex()}: the log is what replays what a power loss takes from the engine.
     */
    public void syncEngine() {
        if (durable != null) {
            durable.sync();
        }
    }

    /**
     * Whether the state lives in a persistent engine, which keeps it across restarts by itself:
     * the group's log may then be compacted at checkpoints, without writing a snapshot file.
     */
    public boolean hasPersistentEngine() {
        return durable != null;
    }

    /**
     * Serves a get, multi-get or scan from the applied state. Writes are refused, and so is a
     * request addressed to another group ({@code group_id} set and not this group's) or touching
     * a slot this group does not own ({@code WRONG_GROUP}). The request's
     * consistency is the caller's business: for LINEARIZABLE the runtime calls this once
     * {@link #lastAppliedIndex()} has reached the ReadIndex, for LEASE while the leader's lease
     * holds, for SERIALIZABLE at once.
     *
     * <p>{@code nowMillis} is the serving replica's clock: a key whose deadline is at or before
     * it (or before the log clock, whichever is later) is not returned (docs/ttl.md).
     */
    public KvReply read(KvRequest request, long nowMillis) {
        long now = Math.max(nowMillis, clockMillis);
        switch (request.getOpCase()) {
            case GET, MULTI_GET, SCAN -> { }
            case MIGRATION_READ -> {
                return request.getMigrationRead().hasFindExpired()
                        ? activeExpiry.find(request.getMigrationRead().getFindExpired(), now)
                        : migration.read(request.getMigrationRead());
            }
            case CONTROLLER -> {
                if (KvCommands.isControllerQuery(request)) {
                    return controllerCommand(request.getController());
                }
                return KvReplies.invalidArgument("a shard controller " + request.getController().getOpCase()
                        + " is not a read; it goes through the log");
            }
            default -> {
                return KvReplies.invalidArgument(request.getOpCase() + " is not a read; writes go through the log");
            }
        }
        Optional<String> error = validator.checkRequest(request);
        if (error.isPresent()) {
            return KvReplies.invalidArgument(error.get());
        }
        if (addressedToAnotherGroup(request)) {
            return wrongGroup("request is addressed to group " + Long.toUnsignedString(request.getGroupId())
                    + "; this is group " + groupId);
        }
        return switch (request.getOpCase()) {
            case GET -> get(request.getGet(), now);
            case MULTI_GET -> multiGet(request.getMultiGet(), now);
            case SCAN -> scan(request.getScan(), now);
            default -> throw new IllegalStateException("unreachable: " + request.getOpCase());
        };
    }

    /**
     * {@link #read(KvRequest, long)} at the log clock, the time of the newest applied write: what
     * every replica at this index agrees on (tests and the simulator; servers pass their clock).
     */
    public KvReply read(KvRequest request) {
        return read(request, clockMillis);
    }

    /** The validator with this state machine's limits, for the service to check requests on arrival. */
    public KvValidator validator() {
        return validator;
    }

    public long lastAppliedIndex() {
        return lastAppliedIndex;
    }

    /** The engine under this machine, for its sizes (metrics); writes go through the machine only. */
    public KvEngine engine() {
        return engine;
    }

    /** The Raft group whose state this is. */
    public long groupId() {
        return groupId;
    }

    /** The slots this group serves now (any thread). */
    public SlotSet ownedSlots() {
        return ownership.serving();
    }

    /**
     * Slots whose keys the engine holds although this group does not serve them, ascending, at most
     * {@code max}: one engine read of at most one key per run of such slots, and one more per slot
     * found. Any thread (the served slots are published, engine reads may run beside apply). While
     * slots move ({@link #movingSlotCount} above 0) a slot being pulled or deleted shows too, so
     * only a settled group's answer means data left behind.
     */
    public List<Integer> straySlots(int max) {
        SlotSet served = ownership.serving();
        List<Integer> stray = new ArrayList<>();
        int slot = 0;
        while (slot < Slots.SLOT_COUNT && stray.size() < max) {
            if (served.contains(slot)) {
                slot++;
                continue;
            }
            int last = slot;
            while (last + 1 < Slots.SLOT_COUNT && !served.contains(last + 1)) {
                last++;
            }
            var found = engine.scan(ScanRequest.range(SlotKeys.slotStart(slot), SlotKeys.slotEnd(last), 1)).entries();
            if (found.isEmpty()) {
                slot = last + 1;
                continue;
            }
            int held = SlotKeys.slotOf(found.get(0).key());
            stray.add(held);
            slot = held + 1;
        }
        return stray;
    }

    /** The number of the shard controller's configuration this group has applied (0 before the first); any thread. */
    public long configNumber() {
        return ownership.configNumber();
    }

    /** How many slots this group moves now (pulling in or handing off); any thread, for status views. */
    public int movingSlotCount() {
        return ownership.movingCount();
    }

    /** The group's slot ownership as it travels in snapshots; null for group 0. Apply thread. */
    private MigrationState migrationState() {
        if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
            return null;
        }
        return MigrationState.newBuilder().setOwnership(ownership.toProto()).addAllFloors(sessions.floors()).build();
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
    // Writes.

    private void beginApply(long index) {
        if (index <= lastAppliedIndex) {
            throw new IllegalStateException("apply of index " + index + " at or below last applied index "
                    + lastAppliedIndex + ": entries must be applied once, in log order");
        }
        lastAppliedIndex = index;
    }

    /**
     * On a persistent engine, writes the entry's data writes, the sessions it changed and the
     * group's clock and next client id with {@code index}, in one atomic indexed batch: after a
     * crash the engine has either the whole entry with its session replies or none of it, so a
     * replay from the engine's index neither loses nor applies twice a write (docs/engines.md).
     */
    private void finishApply(long index) {
        if (durable == null) {
            return;
        }
        List<WriteOp> ops = pending.drain();
        boolean migrationChanged = ownership != writtenOwnership || ownership.changes() != writtenOwnershipChanges
                || sessions.floorChanges() != writtenFloorChanges;
        ops.addAll(DurableState.changes(sessions, clockMillis, migrationChanged ? migrationState() : null));
        markMigrationWritten(ownership, sessions);
        durable.write(new WriteBatch(ops), groupId, index);
    }

    /** Remembers what the engine holds of the migration state, so an entry writes it only when it changed. */
    private void markMigrationWritten(SlotOwnership written, SessionTable table) {
        writtenOwnership = written;
        writtenOwnershipChanges = written.changes();
        writtenFloorChanges = table.floorChanges();
    }

    /**
     * A snapshot's data into a persistent engine: the data, then (sorting after every data key)
     * the sessions and group state, restored with the snapshot's index in one all-or-nothing step.
     */
    private void restoreDurable(Iterator<io.loomkv.core.engine.KeyValue> data, long index, long clock,
            SessionTable restoredSessions, MigrationState migration) {
        durable.restore(DurableState.withMetadata(data, restoredSessions, clock,
                migration != null ? migration : migrationState()), groupId, index);
    }

    private KvReply applyCommand(Command command) {
        Optional<String> envelopeError = validator.checkEnvelope(command);
        if (envelopeError.isPresent()) {
            return KvReplies.invalidArgument(envelopeError.get());
        }
        clockMillis = Math.max(clockMillis, command.getTimestampMillis());
        sessions.expire(clockMillis);
        if (command.hasOpenSession()) {
            SessionTable.Session opened = sessions.open(clockMillis);
            if (opened == null) {
                return KvReplies.error(Status.RESOURCE_EXHAUSTED, "group " + groupId + " has opened every one of the "
                        + GroupIds.MAX_SESSIONS_PER_GROUP + " session ids it may hand out");
            }
            return ok().setOpenSession(OpenSessionResult.newBuilder().setClientId(opened.clientId)).build();
        }
        if (KvValidator.isBootstrap(command) && command.getClientId() == 0) {
            // Session-less (the envelope check allowed it for the bootstrap only): at most once by
            // construction, since the controller refuses a bootstrap once a configuration exists.
            return controllerCommand(command.getController());
        }
        if (command.hasMigrationWrite()) {
            // Session-less too: each migration command checks the state it expects, so a copy
            // proposed twice changes nothing the second time.
            return command.getMigrationWrite().hasExpireKeys()
                    ? activeExpiry.expire(command.getMigrationWrite().getExpireKeys())
                    : migration.write(command.getMigrationWrite());
        }
        int[] writtenSlots = KvCommands.writtenSlots(command);
        SessionTable.Session session = sessions.find(command.getClientId());
        if (session == null) {
            // A session of another group may write a slot that moved here (the client keeps its
            // session across the move); one imported here and forgotten since must not run again.
            long home = GroupIds.groupOfClientId(command.getClientId());
            boolean adoptable = groupId != GroupIds.CONTROLLER_GROUP_ID && writtenSlots.length > 0
                    && home != GroupIds.CONTROLLER_GROUP_ID && home != groupId
                    && !sessions.mayBeForgotten(command.getClientId());
            if (!adoptable) {
                return KvReplies.error(Status.SESSION_EXPIRED, "session " + command.getClientId()
                        + " is unknown (expired, evicted or never opened); the write was not applied");
            }
            KvReply refusal = slotRefusal(command, writtenSlots);
            if (refusal != null) {
                return refusal;
            }
            session = sessions.adopt(command.getClientId(), clockMillis, command.getAcknowledgedBelow());
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
        // A key this group does not serve now is not the write's outcome: not cached, so a retry
        // after the slot moved here (or back) runs, and the new owner answers it meanwhile.
        KvReply refusal = slotRefusal(command, writtenSlots);
        if (refusal != null) {
            return refusal;
        }
        // From here on the sequence gets exactly one outcome, refusals of a bad operation
        // included: a retry of it gets the same cached reply.
        Optional<String> operationError = validator.checkOperation(command);
        KvReply reply = operationError.isPresent()
                ? KvReplies.invalidArgument(operationError.get())
                : execute(command);
        if (writtenSlots.length > 0) {
            // Tagged with its slots, the cached reply moves with them (SessionTable#exportSlot).
            KvReply.Builder tagged = reply.toBuilder();
            for (int slot : writtenSlots) {
                tagged.addWrittenSlots(slot);
            }
            reply = tagged.build();
        }
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
            case EXPIRE -> expire(command.getExpire());
            case CONTROLLER -> controllerCommand(command.getController());
            case OPEN_SESSION, MIGRATION_WRITE, OP_NOT_SET -> throw new IllegalStateException(
                    "unreachable: " + command.getOpCase() + " passed validation as a session write");
        };
    }

    /** A controller command: carried out by group 0; a refusal is an INVALID_ARGUMENT reply naming why. */
    private KvReply controllerCommand(ControllerCommand command) {
        if (controller == null) {
            return KvReplies.invalidArgument("shard controller commands go to group 0, not to data group " + groupId);
        }
        ControllerReply reply = controller.apply(command);
        latestConfig = controller.latest();
        KvReply.Builder result = reply.getError().isEmpty() ? ok() : KvReplies.invalidArgument(reply.getError()).toBuilder();
        return result.setController(reply).build();
    }

    /**
     * Group 0: the newest configuration it has applied (null before its bootstrap, and in a data
     * group); any thread. Stores poll it to follow the controller without waking the group.
     */
    public SlotLayout latestConfig() {
        return latestConfig;
    }

    /** The controller's state (group 0 only; null in a data group): read it on the apply thread. */
    public ShardController controller() {
        return controller;
    }

    private KvReply put(Put put) {
        byte[] key = SlotKeys.engineKey(put.getKey());
        if (!owns(key)) {
            return wrongGroup(key, "key");
        }
        boolean existed = live(key);
        store(key, put.getValue().toByteArray());
        applyDeadline(key, Deadlines.deadline(put.getExpiry(), clockMillis), existed);
        return ok().setPut(PutResult.newBuilder().setExisted(existed)).build();
    }

    private KvReply append(Append append) {
        byte[] key = SlotKeys.engineKey(append.getKey());
        if (!owns(key)) {
            return wrongGroup(key, "key");
        }
        byte[] current = current(key);
        int currentBytes = current == null ? 0 : current.length;
        long newLengthBytes = (long) currentBytes + append.getValue().size();
        if (newLengthBytes > limits.maxValueBytes()) {
            return KvReplies.invalidArgument("append would make the value " + newLengthBytes
                    + " bytes, over maxValueBytes " + limits.maxValueBytes());
        }
        byte[] appended = new byte[(int) newLengthBytes];
        if (current != null) {
            System.arraycopy(current, 0, appended, 0, currentBytes);
        }
        append.getValue().copyTo(appended, currentBytes);
        store(key, appended);
        // The key keeps its deadline; one that had expired (so the append started a new value) goes.
        applyDeadline(key, Deadlines.KEEP, current != null);
        return ok().setAppend(AppendResult.newBuilder().setNewLengthBytes(newLengthBytes)).build();
    }

    private KvReply delete(Delete delete) {
        byte[] key = SlotKeys.engineKey(delete.getKey());
        if (!owns(key)) {
            return wrongGroup(key, "key");
        }
        boolean existed = live(key);
        // An expired key does not count as existing, but its value and deadline go as well.
        if (existed || (deadlinesMayExist && isStored(key))) {
            remove(key);
            clearDeadline(key);
        }
        return ok().setDelete(DeleteResult.newBuilder().setExisted(existed)).build();
    }

    private KvReply compareAndSet(CompareAndSet cas) {
        byte[] key = SlotKeys.engineKey(cas.getKey());
        if (!owns(key)) {
            return wrongGroup(key, "key");
        }
        byte[] currentBytes = current(key);
        Optional<ByteString> current = currentBytes == null ? Optional.empty() : Optional.of(wrap(currentBytes));
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
        store(key, cas.getNewValue().toByteArray());
        applyDeadline(key, Deadlines.deadline(cas.getExpiry(), clockMillis), current.isPresent());
        return ok().setCompareAndSet(CompareAndSetResult.newBuilder()
                        .setSwapped(true)
                        .setCurrentPresent(true)
                        .setCurrentValue(cas.getNewValue()))
                .build();
    }

    private KvReply multiPut(MultiPut multiPut) {
        List<WriteOp> ops = new ArrayList<>(multiPut.getEntriesCount());
        for (int i = 0; i < multiPut.getEntriesCount(); i++) {
            KeyValue entry = multiPut.getEntries(i);
            byte[] key = SlotKeys.engineKey(entry.getKey());
            if (!owns(key)) {
                // All or nothing: one key elsewhere refuses the whole multi-put.
                return wrongGroup(key, "entries[" + i + "].key");
            }
            ops.add(new WriteOp.Put(key, entry.getValue().toByteArray()));
        }
        if (pending == null) {
            engine.write(new WriteBatch(ops));
        } else {
            ops.forEach(op -> pending.put(op.key(), ((WriteOp.Put) op).value()));
        }
        if (deadlinesMayExist) {
            // As Redis's MSET: the keys have no deadline afterwards (values first, then deadlines,
            // the order getConcurrently relies on).
            for (WriteOp op : ops) {
                clearDeadline(op.key());
            }
        }
        return ok().setMultiPut(MultiPutResult.newBuilder().setWritten(ops.size())).build();
    }

    private KvReply expire(Expire expire) {
        byte[] key = SlotKeys.engineKey(expire.getKey());
        if (!owns(key)) {
            return wrongGroup(key, "key");
        }
        ExpireResult.Builder result = ExpireResult.newBuilder();
        if (!live(key)) {
            return ok().setExpire(result.setExisted(false)).build();
        }
        result.setExisted(true);
        long deadline = switch (expire.getChangeCase()) {
            case TTL_MILLIS -> clockMillis + expire.getTtlMillis();
            case AT_UNIX_MILLIS -> expire.getAtUnixMillis();
            case PERSIST -> 0;
            case CHANGE_NOT_SET -> throw new IllegalStateException("unreachable: the validator refuses an empty expire");
        };
        long before = deadlineAtApply(key);
        if (!Deadlines.allows(expire.getCondition(), before, deadline)) {
            return ok().setExpire(result.setSkipped(true)).build();
        }
        applyDeadline(key, deadline, true);
        return ok().setExpire(result.setChanged(deadline != before)).build();
    }

    /**
     * Gives a key just written (or kept) deadline {@code deadline}: 0 for none, {@link Deadlines#KEEP}
     * for the one it has when {@code wasLive} (none when it had expired or did not exist), else a
     * Unix time; a time already past at the log clock deletes the key, as Redis does.
     */
    private void applyDeadline(byte[] key, long deadline, boolean wasLive) {
        if (deadline == Deadlines.KEEP) {
            if (!wasLive) {
                clearDeadline(key);
            }
        } else if (deadline == 0) {
            clearDeadline(key);
        } else if (deadline <= clockMillis) {
            remove(key);
            clearDeadline(key);
        } else {
            // Published before the deadline is written, so a concurrent reader that can see the
            // deadline also looks for it.
            deadlinesMayExist = true;
            store(DeadlineKeys.of(key), DeadlineKeys.encode(deadline));
        }
    }

    private void clearDeadline(byte[] key) {
        if (!deadlinesMayExist) {
            return;
        }
        byte[] deadlineKey = DeadlineKeys.of(key);
        if (isStored(deadlineKey)) {
            remove(deadlineKey);
        }
    }

    /** A moved key's deadline as its previous owner held it (0: none); by {@link SlotMigration}. */
    void installDeadline(byte[] key, long deadline) {
        if (deadline == 0) {
            clearDeadline(key);
        } else {
            deadlinesMayExist = true;
            store(DeadlineKeys.of(key), DeadlineKeys.encode(deadline));
        }
    }

    /** A key's deadline as the entry being applied sees it (0: none). */
    long deadlineAtApply(byte[] key) {
        return deadlinesMayExist ? DeadlineKeys.decode(stored(DeadlineKeys.of(key))) : 0;
    }

    /** Whether deadlines may exist (any thread): false lets a caller skip looking for them. */
    public boolean deadlinesMayExist() {
        return deadlinesMayExist;
    }

    /** After a walk of every deadline found none (apply thread; by {@link ActiveExpiry}). */
    void noDeadlinesFound() {
        deadlinesMayExist = false;
    }

    // ----------------------------------------------------------------------------------------
    // Reads.

    /**
     * A single-key GET that any thread may call while the apply thread goes on: the engine allows
     * reads concurrent with its one writer, and one key's value is always the result of some
     * applied command, never half of one. It may see commands the apply thread has applied but not
     * yet published as applied; those are committed, so seeing them early is still linearizable.
     * The caller checks that the published applied index covers the read's index and that
     * {@code request} passed the {@link #validator()}. Multi-key reads (MULTI_GET, SCAN) promise one
     * point in time and must stay on the apply thread.
     */
    public KvReply getConcurrently(KvRequest request, long nowMillis) {
        if (request.getOpCase() != KvRequest.OpCase.GET) {
            throw new IllegalArgumentException("only a single-key GET may be read concurrently, not " + request.getOpCase());
        }
        if (addressedToAnotherGroup(request)) {
            return wrongGroup("request is addressed to group " + Long.toUnsignedString(request.getGroupId())
                    + "; this is group " + groupId);
        }
        return get(request.getGet(), nowMillis);
    }

    /**
     * A get's reply. When the group may hold deadlines, the key's deadline is read before its value:
     * a write that changes both writes the value first (an entry's writes go out in key order, and
     * data keys sort before deadline keys), so a concurrent reader that sees a new deadline also
     * sees the value written with it, and one that sees the old, passed deadline answers as of
     * before the write.
     */
    private KvReply get(Get get, long nowMillis) {
        byte[] key = SlotKeys.engineKey(get.getKey());
        if (!owns(key)) {
            return wrongGroup(key, "key");
        }
        long deadline = deadlinesMayExist ? DeadlineKeys.decode(engine.get(DeadlineKeys.of(key))) : 0;
        byte[] value = Deadlines.expired(deadline, nowMillis) ? null : engine.get(key);
        if (value == null) {
            return KvReply.newBuilder().setStatus(Status.NOT_FOUND).setMessage("key not found").build();
        }
        GetResult.Builder result = GetResult.newBuilder();
        if (!get.getWithoutValue()) {
            result.setValue(wrap(value));
        }
        if (deadline != 0) {
            result.setExpiresAtMillis(deadline).setRemainingMillis(deadline - nowMillis);
        }
        return ok().setGet(result).build();
    }

    private KvReply multiGet(MultiGet multiGet, long nowMillis) {
        MultiGetResult.Builder result = MultiGetResult.newBuilder();
        long replyBytes = 0;
        for (int i = 0; i < multiGet.getKeysCount(); i++) {
            ByteString key = multiGet.getKeys(i);
            byte[] engineKey = SlotKeys.engineKey(key);
            if (!owns(engineKey)) {
                return wrongGroup(engineKey, "keys[" + i + "]");
            }
            Optional<ByteString> value = lookup(engineKey, nowMillis);
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

    private KvReply scan(Scan scan, long nowMillis) {
        ByteString start;
        ByteString end;
        if (scan.hasPrefix()) {
            start = scan.getPrefix();
            end = KvKeys.prefixEnd(scan.getPrefix());
        } else {
            start = scan.getRange().getStart();
            end = scan.getRange().getEnd();
        }
        SlotSet slots = ownership.serving();
        Optional<Integer> pinned = SlotScan.pinnedSlot(scan);
        if (pinned.isPresent()) {
            if (!slots.contains(pinned.get())) {
                return notServed("every key the scan selects", pinned.get());
            }
            slots = SlotSet.ofSlots(pinned.get());
        }
        if (!scan.getResumeAfter().isEmpty()) {
            ByteString next = KvKeys.successor(scan.getResumeAfter());
            if (KvKeys.compare(next, start) > 0) {
                start = next;
            }
        }
        int limit = scan.getLimit() == 0 ? limits.defaultScanLimit() : scan.getLimit();
        SlotScan.Filter hidden = deadlinesMayExist ? key -> expiredAt(key, nowMillis) : SlotScan.Filter.NONE;
        return ok().setScan(SlotScan.scan(engine, slots, start, end, limit, limits.maxReplyBytes(), hidden)).build();
    }

    private boolean owns(byte[] engineKey) {
        return ownership.isServing(SlotKeys.slotOf(engineKey));
    }

    /** Why a data write is not for this group now (a key in a slot it does not serve), or null. */
    private KvReply slotRefusal(Command command, int[] writtenSlots) {
        for (int slot : writtenSlots) {
            if (!ownership.isServing(slot)) {
                return notServed(command.getOpCase() == Command.OpCase.MULTI_PUT ? firstEntryIn(command, slot) : "key", slot);
            }
        }
        return null;
    }

    /** "entries[i].key" for a multi-put's first entry in {@code slot} (refusals only, so the hash is taken again). */
    private static String firstEntryIn(Command command, int slot) {
        for (int i = 0; i < command.getMultiPut().getEntriesCount(); i++) {
            if (Slots.slotOf(command.getMultiPut().getEntries(i).getKey()) == slot) {
                return "entries[" + i + "].key";
            }
        }
        throw new IllegalStateException("slot " + slot + " is not one of the multi-put's");
    }

    /** A request naming a group (group_id 0 names none) that is not this one. */
    private boolean addressedToAnotherGroup(KvRequest request) {
        return request.getGroupId() != 0 && request.getGroupId() != groupId;
    }

    private KvReply wrongGroup(byte[] engineKey, String what) {
        return notServed(what, SlotKeys.slotOf(engineKey));
    }

    /**
     * A key in a slot this group does not serve: UNAVAILABLE while the slot is being pulled here
     * (the client waits and retries), else WRONG_GROUP naming the configuration this group is at.
     */
    private KvReply notServed(String what, int slot) {
        SlotOwnership current = ownership;
        io.loomkv.core.kv.proto.MovingSlot move = current.moving(slot);
        if (move != null && move.getPhase() == io.loomkv.core.kv.proto.SlotPhase.PULLING) {
            return KvReplies.error(Status.UNAVAILABLE, what + " is in slot " + slot + ", which group " + groupId
                    + " is taking over from group " + move.getOtherGroup() + " (configuration "
                    + current.configNumber() + "); retry shortly").toBuilder().setGroupId(groupId).build();
        }
        return wrongGroup(what + " is in slot " + slot + ", which group " + groupId + " does not serve at configuration "
                + current.configNumber()).toBuilder().setLayoutVersion(current.configNumber()).build();
    }

    /**
     * The refusal of a key or request that belongs to another group. It names this group; the
     * store that sends it adds its layout version (a store's fact, not the replicated state's).
     */
    private KvReply wrongGroup(String message) {
        return KvReply.newBuilder()
                .setStatus(Status.WRONG_GROUP)
                .setMessage(message)
                .setGroupId(groupId)
                .build();
    }

    /**
     * A key's value as the entry being applied sees it (its own earlier writes included), or null
     * when it is absent or has expired at the log clock (the same on every replica).
     */
    private byte[] current(byte[] key) {
        byte[] value = stored(key);
        return value == null || expiredAtApply(key) ? null : value;
    }

    /**
     * Whether {@code key} has a value that has not expired, as {@code current(key) != null} says,
     * without fetching the value: a put, delete or expire needs only that, on every replica.
     */
    private boolean live(byte[] key) {
        return isStored(key) && !expiredAtApply(key);
    }

    /** Whether a stored key's deadline has passed at the clock of the entry being applied. */
    private boolean expiredAtApply(byte[] key) {
        return deadlinesMayExist && Deadlines.expired(deadlineAtApply(key), clockMillis);
    }

    /** Whether the engine holds a value under {@code key} as the entry being applied sees it, expired or not. */
    private boolean isStored(byte[] key) {
        return pending == null ? engine.contains(key) : pending.contains(engine, key);
    }

    /** What the engine holds under {@code key} as the entry being applied sees it, expired or not. */
    byte[] stored(byte[] key) {
        return pending == null ? engine.get(key) : pending.get(engine, key);
    }

    /** For reads (never during an apply): whether a data key has a deadline at or before {@code nowMillis}. */
    boolean expiredAt(byte[] key, long nowMillis) {
        return Deadlines.expired(DeadlineKeys.decode(engine.get(DeadlineKeys.of(key))), nowMillis);
    }

    /** The group's slot ownership (apply thread; for {@link SlotMigration}). */
    SlotOwnership ownership() {
        return ownership;
    }

    /** The session table (apply thread; for {@link SlotMigration}). */
    SessionTable sessions() {
        return sessions;
    }

    void store(byte[] key, byte[] value) {
        if (pending == null) {
            engine.put(key, value);
        } else {
            pending.put(key, value);
        }
    }

    void remove(byte[] key) {
        if (pending == null) {
            engine.delete(key);
        } else {
            pending.delete(key);
        }
    }

    /** For reads (never during an apply): the engine's applied state, without expired keys. */
    private Optional<ByteString> lookup(byte[] key, long nowMillis) {
        if (deadlinesMayExist && expiredAt(key, nowMillis)) {
            return Optional.empty();
        }
        byte[] value = engine.get(key);
        return value == null ? Optional.empty() : Optional.of(wrap(value));
    }

    /** Engine arrays are immutable by the engine's contract, so they can be shared without a copy. */
    private static ByteString wrap(byte[] bytes) {
        return UnsafeByteOperations.unsafeWrap(bytes);
    }

    private static boolean isEmpty(KvEngine engine) {
        return engine.scan(ScanRequest.range(new byte[0], null, 1)).entries().isEmpty();
    }

    private static KvReply.Builder ok() {
        return KvReply.newBuilder().setStatus(Status.OK);
    }
}
