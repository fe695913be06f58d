package io.loomkv.core.kv;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteOp;
import io.loomkv.core.kv.proto.DurableGroupState;
import io.loomkv.core.kv.proto.MigrationState;
import io.loomkv.core.kv.proto.DurableSession;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The state machine's sessions and per-group values as a persistent engine keeps them, beside the
 * data under {@link DurableKeys}: what each applied entry writes with its batch, what a restart
 * reads back, what a restore appends to a snapshot's data, and what a snapshot leaves out. See
 * docs/engines.md ("Applying entries") for why they go in the same batch as the data.
 */
final class DurableState {
    /** Sessions read per scan page on a restart: bounds the memory of one page, not of the table. */
    private static final int SESSIONS_PER_PAGE = 1_024;

    private DurableState() {}

    /**
     * The operations that bring the engine's copy up to date after an entry: each session the
     * entry changed (written, or deleted when it expired or was evicted) and the group's values.
     */
    /** {@code migration} is null when the entry did not change it. */
    static List<WriteOp> changes(SessionTable sessions, long clockMillis, MigrationState migration) {
        List<WriteOp> ops = new ArrayList<>();
        for (long clientId : sessions.takeChanged()) {
            SessionTable.Session session = sessions.find(clientId);
            byte[] key = DurableKeys.session(clientId);
            ops.add(session == null ? new WriteOp.Delete(key)
                    : new WriteOp.Put(key, SessionTable.toDurable(session).toByteArray()));
        }
        ops.add(new WriteOp.Put(DurableKeys.GROUP_STATE, groupState(clockMillis, sessions).toByteArray()));
        if (migration != null) {
            ops.add(new WriteOp.Put(DurableKeys.MIGRATION, migration.toByteArray()));
        }
        return ops;
    }

    /**
     * Fills {@code table} (new, empty) from the engine's copy stored with index {@code applied} and
     * returns the log clock and the slot ownership (null when none was stored: a group that never
     * moved a slot since the engine was written).
     *
     * @throws IllegalArgumentException when the copy is missing or does not parse or fit the group
     */
    record Loaded(long clockMillis, MigrationState migration) {}

    static Loaded load(KvEngine engine, SessionTable table, long groupId, long applied) {
        byte[] stored = engine.get(DurableKeys.GROUP_STATE);
        if (stored == null) {
            throw new IllegalArgumentException("the engine is at index " + applied + " for group " + groupId
                    + " but holds no group state");
        }
        DurableGroupState group;
        MigrationState migration = null;
        List<DurableSession> storedSessions = new ArrayList<>();
        try {
            group = DurableGroupState.parseFrom(stored);
            byte[] storedMigration = engine.get(DurableKeys.MIGRATION);
            if (storedMigration != null) {
                migration = MigrationState.parseFrom(storedMigration);
            }
            ScanRequest request = ScanRequest.range(DurableKeys.SESSIONS_START, DurableKeys.SESSIONS_END, SESSIONS_PER_PAGE);
            while (request != null) {
                ScanPage page = engine.scan(request);
                for (KeyValue entry : page.entries()) {
                    storedSessions.add(DurableSession.parseFrom(entry.value()));
                }
                request = request.next(page);
            }
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the engine's stored state of group " + groupId + " does not parse", e);
        }
        table.restoreNextClientId(group.getNextClientId());
        table.restoreDurable(storedSessions);
        if (migration != null) {
            table.restoreFloors(migration.getFloorsList());
        }
        table.takeChanged();
        return new Loaded(group.getClockMillis(), migration);
    }

    /** A snapshot's data followed by the sessions and group values as metadata keys, all in key order. */
    static Iterator<KeyValue> withMetadata(Iterator<KeyValue> data, SessionTable sessions, long clockMillis,
            MigrationState migration) {
        List<KeyValue> metadata = new ArrayList<>();
        metadata.add(new KeyValue(DurableKeys.GROUP_STATE, groupState(clockMillis, sessions).toByteArray()));
        if (migration != null) {
            metadata.add(new KeyValue(DurableKeys.MIGRATION, migration.toByteArray()));
        }
        List<SessionTable.Session> ordered = new ArrayList<>(sessions.inLruOrder());
        ordered.sort((a, b) -> Long.compareUnsigned(a.clientId, b.clientId));
        for (SessionTable.Session session : ordered) {
            metadata.add(new KeyValue(DurableKeys.session(session.clientId), SessionTable.toDurable(session).toByteArray()));
        }
        Iterator<KeyValue> after = metadata.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return data.hasNext() || after.hasNext();
            }

            @Override
            public KeyValue next() {
                if (data.hasNext()) {
                    return data.next();
                }
                if (after.hasNext()) {
                    return after.next();
                }
                throw new NoSuchElementException();
            }
        };
    }

    /** The engine's view without the metadata keys (which sort after every data key). */
    static EngineSnapshot dataOnly(EngineSnapshot view) {
        return new EngineSnapshot() {
            @Override
            public Iterator<KeyValue> iterator() {
                Iterator<KeyValue> all = view.iterator();
                return new Iterator<>() {
                    private KeyValue next;

                    @Override
                    public boolean hasNext() {
                        if (next == null && all.hasNext()) {
                            KeyValue candidate = all.next();
                            if (!DurableKeys.isMetadata(candidate.key())) {
                                next = candidate;
                            }
                        }
                        return next != null;
                    }

                    @Override
                    public KeyValue next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        KeyValue result = next;
                        next = null;
                        return result;
                    }
                };
            }

            @Override
            public void close() {
                view.close();
            }
        };
    }

    private static DurableGroupState groupState(long clockMillis, SessionTable sessions) {
        return DurableGroupState.newBuilder().setClockMillis(clockMillis).setNextClientId(sessions.nextClientId()).build();
    }
}
