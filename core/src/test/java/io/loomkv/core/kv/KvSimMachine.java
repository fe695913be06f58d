package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.sim.SimMachine;
import io.loomkv.core.shard.SlotSet;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.TreeMap;

/**
 * The real {@link KvStateMachine} (on the in-memory engine) as a simulated replica's state
 * machine: committed entries are applied as the server's apply loop applies them (an entry's data
 * is a {@code CommandBatch}; configuration changes and empty entries are skipped), snapshots are
 * the machine's own snapshot stream. The replies of the recent entries are kept by index with the
 * entry's term, so a simulated client that proposed at this replica can find its reply the way the
 * server's proposer does: the entry at its index, of its term.
 */
public final class KvSimMachine implements SimMachine {

    /** Replies kept for clients to find; older ones are gone, and their clients retry (exactly once by sessions). */
    private static final int RECENT_ENTRIES = 4_096;

    private final InMemoryKvEngine engine = new InMemoryKvEngine();
    private final KvStateMachine machine;
    /** A hash chain of the applied entries, for the checker's state machine safety. */
    private long stateHash;
    private final TreeMap<Long, AppliedEntry> recent = new TreeMap<>();

    /** The replies of one applied entry, with its term. */
    public record AppliedEntry(long term, List<KvReply> replies) {}

    /** A replica's machine of group {@code groupId} (0: the shard controller) serving {@code ownedSlots} at first. */
    public KvSimMachine(long groupId, SlotSet ownedSlots) {
        this.machine = new KvStateMachine(engine, KvLimits.defaults(), SessionPolicy.defaults(), groupId,
                ownedSlots);
    }

    /** The machine itself, for reads (on the simulator's thread, which is its apply thread). */
    public KvStateMachine machine() {
        return machine;
    }

    /** The stored keys by user key (every engine key checked well formed), for the end-of-run checks. */
    public TreeMap<ByteString, ByteString> userContents() {
        TreeMap<ByteString, ByteString> byUserKey = new TreeMap<>(KvKeys.ORDER);
        for (java.util.Map.Entry<ByteString, ByteString> entry : engine.contents().entrySet()) {
            byte[] engineKey = entry.getKey().toByteArray();
            String malformed = SlotKeys.checkEngineKey(engineKey);
            if (malformed != null) {
                throw new IllegalStateException("group " + machine.groupId() + " stores a malformed key: " + malformed);
            }
            byUserKey.put(SlotKeys.userKey(engineKey), entry.getValue());
        }
        return byUserKey;
    }

    /** The engine's keys and values as stored (data, deadlines), for replica comparisons. */
    public java.util.Map<ByteString, ByteString> engineContents() {
        return engine.contents();
    }

        /** The replies of the entry at {@code index} if this incarnation applied it recently, else null. */
    public AppliedEntry applied(long index) {
        return recent.get(index);
    }

    @Override
    public long appliedIndex() {
        return machine.lastAppliedIndex();
    }

    @Override
    public long stateHash() {
        return stateHash;
    }

    @Override
    public String apply(Entry entry) {
        if (entry.getIndex() != machine.lastAppliedIndex() + 1) {
            return "applied index " + entry.getIndex() + " after " + machine.lastAppliedIndex()
                    + " (entries must be applied in order, once)";
        }
        List<KvReply> replies;
        if (entry.getType() == EntryType.ENTRY_CONF_CHANGE || entry.getData().isEmpty()) {
            machine.skip(entry.getIndex());
            replies = List.of();
        } else {
            replies = machine.applyEntry(entry.getIndex(), entry.getData());
        }
        stateHash = stateHash * 1_000_003L + entry.getIndex() * 31 + entry.getType().getNumber() * 7L
                + entry.getData().hashCode();
        recent.put(entry.getIndex(), new AppliedEntry(entry.getTerm(), replies));
        while (recent.size() > RECENT_ENTRIES) {
            recent.pollFirstEntry();
        }
        return null;
    }

    @Override
    public ByteString snapshot() {
        ByteString.Output bytes = ByteString.newOutput();
        try {
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeLong(stateHash);
            machine.writeSnapshot(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing a snapshot to memory", e);
        }
        return bytes.toByteString();
    }

    @Override
    public void restore(ByteString data, long snapshotIndex) {
        try (InputStream in = data.newInput()) {
            long hash = new DataInputStream(in).readLong();
            machine.restore(in);
            if (machine.lastAppliedIndex() != snapshotIndex) {
                throw new IllegalStateException("snapshot data says index " + machine.lastAppliedIndex()
                        + ", metadata says index " + snapshotIndex);
            }
            stateHash = hash;
            recent.clear();
        } catch (IOException e) {
            throw new UncheckedIOException("restoring a snapshot of index " + snapshotIndex, e);
        }
    }
}
