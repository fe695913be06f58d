package io.loomkv.core.kv;

import io.loomkv.core.kv.proto.MigrationState;
import io.loomkv.core.shard.controller.proto.ControllerSnapshot;
import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.kv.proto.CachedReply;
import io.loomkv.core.kv.proto.SessionState;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The state machine's state at one log index, captured by {@link KvStateMachine#snapshot()}:
 * a copy of the session table and a point-in-time view of the engine. Writing it out does not
 * touch the live state machine, so the runtime may do it on another thread. Close it to release
 * the engine's view.
 */
public final class KvSnapshot implements AutoCloseable {

    private final long lastAppliedIndex;
    private final long clockMillis;
    private final long nextClientId;
    private final List<SessionState> sessions;
    private final List<List<CachedReply>> cachedReplies;
    /** Group 0's controller state; null in a data group. */
    private final ControllerSnapshot controller;
    /** A data group's slot ownership and session floors; null in group 0. */
    private final MigrationState migration;
    private final EngineSnapshot data;
    private final KvLimits limits;
    private boolean written;

    private KvSnapshot(long lastAppliedIndex, long clockMillis, long nextClientId, List<SessionState> sessions,
            List<List<CachedReply>> cachedReplies, ControllerSnapshot controller, MigrationState migration, EngineSnapshot data,
            KvLimits limits) {
        this.lastAppliedIndex = lastAppliedIndex;
        this.clockMillis = clockMillis;
        this.nextClientId = nextClientId;
        this.sessions = sessions;
        this.cachedReplies = cachedReplies;
        this.controller = controller;
        this.migration = migration;
        this.data = data;
        this.limits = limits;
    }

    static KvSnapshot capture(long lastAppliedIndex, long clockMillis, SessionTable table, ControllerSnapshot controller,
            MigrationState migration, EngineSnapshot data, KvLimits limits) {
        List<SessionState> sessions = new ArrayList<>(table.size());
        List<List<CachedReply>> replies = new ArrayList<>(table.size());
        for (SessionTable.Session session : table.inLruOrder()) {
            sessions.add(session.toState());
            replies.add(session.cachedReplies());
        }
        return new KvSnapshot(lastAppliedIndex, clockMillis, table.nextClientId(), sessions, replies, controller, migration,
                data, limits);
    }

    /** The log index the snapshot covers (the Raft snapshot's index). */
    public long lastAppliedIndex() {
        return lastAppliedIndex;
    }

    /**
     * Writes the snapshot stream to {@code out} (not closed). May be called once: the engine view
     * is read as it goes.
     */
    public void writeTo(OutputStream out) throws IOException {
        if (written) {
            throw new IllegalStateException("snapshot at index " + lastAppliedIndex + " was already written");
        }
        written = true;
        KvSnapshotCodec.write(out, limits, lastAppliedIndex, clockMillis, nextClientId, sessions, cachedReplies,
                controller, migration, data.iterator());
    }

    @Override
    public void close() {
        data.close();
    }
}
