package io.loomkv.core.replica;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.SoftState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A {@link ReplicaIo} for driver tests: it records every call, writes into a {@link MemoryStorage}
 * at once (as the runtime's storage shows a write before it is durable), and makes each write
 * durable only when the test says so (or at once, with {@link #syncAtOnce}).
 */
final class ScriptedReplicaIo implements ReplicaIo {

    /** One persist call; the test decides when (and whether) it becomes durable. */
    static final class Write {
        final HardState hardState;
        final List<Entry> entries;
        final boolean mustSync;
        boolean durable;
        RuntimeException failure;

        Write(HardState hardState, List<Entry> entries, boolean mustSync) {
            this.hardState = hardState;
            this.entries = List.copyOf(entries);
            this.mustSync = mustSync;
        }
    }

    final MemoryStorage storage;
    final List<Message> sent = new ArrayList<>();
    final List<Write> writes = new ArrayList<>();
    final List<CommittedEntries> applied = new ArrayList<>();
    final List<ReadState> reads = new ArrayList<>();
    final List<Message> rejected = new ArrayList<>();
    final List<SnapshotMetadata> installed = new ArrayList<>();
    /** Snapshot staging and installs in call order: "stage INDEX@OFFSET", "install INDEX". */
    final List<String> snapshotCalls = new ArrayList<>();
    boolean syncAtOnce = true;
    /** Runs inside {@link #apply}, before it records the entries: to look at the node at hand-off. */
    Consumer<CommittedEntries> onApply = committed -> { };
    private ByteString.Output staged;

    ScriptedReplicaIo(MemoryStorage storage) {
        this.storage = storage;
    }

    /** The writes not yet durable, made durable now. */
    void completeWrites() {
        writes.forEach(write -> write.durable = true);
    }

    Write lastWrite() {
        return writes.get(writes.size() - 1);
    }

    List<Message> sent(MessageType type) {
        return sent.stream().filter(m -> m.getType() == type).toList();
    }

    List<Entry> appliedEntries() {
        return applied.stream().flatMap(c -> c.entries().stream()).toList();
    }

    @Override
    public boolean send(Message message) {
        sent.add(message);
        return true;
    }

    @Override
    public Durability persist(HardState hardState, List<Entry> entries, boolean mustSync) {
        Write write = new Write(hardState, entries, mustSync);
        write.durable = syncAtOnce;
        writes.add(write);
        storage.append(entries);
        if (hardState != null) {
            storage.setHardState(hardState);
        }
        return () -> {
            if (write.failure != null) {
                throw write.failure;
            }
            return write.durable;
        };
    }

    @Override
    public void stageSnapshotChunk(SnapshotChunk chunk) {
        snapshotCalls.add("stage " + chunk.metadata().getIndex() + "@" + chunk.offsetBytes());
        if (chunk.offsetBytes() == 0) {
            staged = ByteString.newOutput();
        }
        byte[] data = chunk.data().toByteArray();
        staged.write(data, 0, data.length);
    }

    @Override
    public void installSnapshot(SnapshotMetadata metadata) {
        snapshotCalls.add("install " + metadata.getIndex());
        storage.applySnapshot(metadata, staged.toByteString());
        installed.add(metadata);
    }

    @Override
    public void apply(CommittedEntries committed) {
        onApply.accept(committed);
        applied.add(committed);
    }

    @Override
    public void readsConfirmed(List<ReadState> readStates) {
        reads.addAll(readStates);
    }

    @Override
    public void softStateChanged(SoftState softState) {
        // The tests read the node's role directly.
    }

    @Override
    public void messageRejected(Message message, IllegalArgumentException reason) {
        rejected.add(message);
    }

    /** A driver of node {@code node} over this I/O. */
    ReplicaDriver driver(RaftNode node) {
        return new ReplicaDriver(node, this);
    }
}
