package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An in-memory {@link Storage} (etcd's MemoryStorage), for tests, the simulator and benchmarks.
 * The runtime writes to it what a {@code Ready} hands out; "durable" means "in this object".
 *
 * <p>Internally {@code entries.get(0)} is a dummy entry holding the snapshot's index and term,
 * so that {@link #term(long)} answers for the snapshot index too.
 *
 * <p>Not thread-safe: the simulator and tests use it from one thread.
 */
public final class MemoryStorage implements Storage {
    private HardState hardState = HardState.getDefaultInstance();
    private ConfState bootstrapConfState = ConfState.getDefaultInstance();
    private SnapshotMetadata snapshotMetadata = SnapshotMetadata.getDefaultInstance();
    private ByteString snapshotData = ByteString.EMPTY;
    private ArrayList<Entry> entries = new ArrayList<>();

    public MemoryStorage() {
        entries.add(Entry.getDefaultInstance());
    }

    /**
     * An empty storage whose membership, until a snapshot replaces it, is the cluster's founding
     * voters. Every node starts from the same founding membership, including nodes added later:
     * the log's conf change entries are applied on top of it, so a joiner that replays the log
     * from index 1 goes through the same memberships as everyone else (a joiner that gets a
     * snapshot takes the snapshot's membership instead).
     */
    public static MemoryStorage bootstrap(List<Long> voters) {
        MemoryStorage storage = new MemoryStorage();
        storage.bootstrapConfState = ConfState.newBuilder().addAllVoters(voters).build();
        return storage;
    }

    /** The membership used when there is no snapshot yet (a fresh cluster). */
    public void setBootstrapConfState(ConfState confState) {
        this.bootstrapConfState = Objects.requireNonNull(confState, "confState");
    }

    @Override
    public InitialState initialState() {
        ConfState conf = snapshotMetadata.getIndex() > 0 ? snapshotMetadata.getConfState() : bootstrapConfState;
        return new InitialState(hardState, conf);
    }

    public HardState hardState() {
        return hardState;
    }

    public void setHardState(HardState hardState) {
        this.hardState = Objects.requireNonNull(hardState, "hardState");
    }

    private long offset() {
        return entries.get(0).getIndex();
    }

    @Override
    public List<Entry> entries(long fromIndex, long toIndexExclusive, long maxSizeBytes) {
        long offset = offset();
        if (fromIndex <= offset) {
            throw new CompactedException("index " + fromIndex + " is compacted, first index " + (offset + 1));
        }
        if (toIndexExclusive > lastIndex() + 1) {
            throw new UnavailableException("entries up to " + toIndexExclusive + " unavailable, last index " + lastIndex());
        }
        if (fromIndex >= toIndexExclusive) {
            return List.of();
        }
        List<Entry> range = entries.subList((int) (fromIndex - offset), (int) (toIndexExclusive - offset));
        return List.copyOf(RaftLog.limitSize(range, maxSizeBytes));
    }

    @Override
    public long term(long index) {
        long offset = offset();
        if (index < offset) {
            throw new CompactedException("term of " + index + " is compacted, first index " + (offset + 1));
        }
        if (index - offset >= entries.size()) {
            throw new UnavailableException("term of " + index + " unavailable, last index " + lastIndex());
        }
        return entries.get((int) (index - offset)).getTerm();
    }

    @Override
    public long firstIndex() {
        return offset() + 1;
    }

    @Override
    public long lastIndex() {
        return offset() + entries.size() - 1;
    }

    @Override
    public SnapshotMetadata snapshotMetadata() {
        return snapshotMetadata;
    }

    /** The whole data of the newest snapshot (in-memory only; real storage reads it in chunks). */
    public ByteString snapshotData() {
        return snapshotData;
    }

    @Override
    public ByteString readSnapshotChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes) {
        if (!metadata.equals(snapshotMetadata)) {
            throw new SnapshotUnavailableException("snapshot at index " + metadata.getIndex()
                    + " is not the newest, which is at index " + snapshotMetadata.getIndex());
        }
        if (offsetBytes < 0 || offsetBytes > snapshotData.size() || maxSizeBytes <= 0) {
            throw new IllegalArgumentException("bad chunk request offset=" + offsetBytes + " max=" + maxSizeBytes
                    + " size=" + snapshotData.size());
        }
        int end = (int) Math.min(snapshotData.size(), offsetBytes + maxSizeBytes);
        return snapshotData.substring((int) offsetBytes, end);
    }

    /**
     * Replaces the log with a snapshot received from the leader (the Ready's snapshot, its data
     * assembled from the staged chunks).
     */
    public void applySnapshot(SnapshotMetadata metadata, ByteString data) {
        if (metadata.getIndex() <= snapshotMetadata.getIndex()) {
            throw new IllegalArgumentException("snapshot at index " + metadata.getIndex()
                    + " is not newer than the current one at " + snapshotMetadata.getIndex());
        }
        if (metadata.getSizeBytes() != data.size()) {
            throw new IllegalArgumentException("snapshot data has " + data.size() + " bytes, metadata says "
                    + metadata.getSizeBytes());
        }
        snapshotMetadata = metadata;
        snapshotData = data;
        entries = new ArrayList<>();
        entries.add(Entry.newBuilder().setIndex(metadata.getIndex()).setTerm(metadata.getTerm()).build());
    }

    /**
     * Makes a snapshot of the applied state at {@code index} (which must be in the log) and
     * returns its metadata. Does not compact: call {@link #compact(long)} for that.
     */
    public SnapshotMetadata createSnapshot(long index, ConfState confState, ByteString data) {
        if (index <= snapshotMetadata.getIndex()) {
            throw new IllegalArgumentException("snapshot index " + index + " is not newer than " + snapshotMetadata.getIndex());
        }
        if (index > lastIndex()) {
            throw new IllegalArgumentException("snapshot index " + index + " is beyond last index " + lastIndex());
        }
        snapshotMetadata = SnapshotMetadata.newBuilder()
                .setIndex(index)
                .setTerm(term(index))
                .setConfState(confState)
                .setSizeBytes(data.size())
                .build();
        snapshotData = data;
        return snapshotMetadata;
    }

    /**
     * Discards entries up to and including {@code compactIndex}. A runtime compacts only what its
     * newest snapshot covers, so that a leader can still bring any follower up to date.
     */
    public void compact(long compactIndex) {
        long offset = offset();
        if (compactIndex <= offset) {
            throw new CompactedException("compact index " + compactIndex + " is already compacted, first index "
                    + (offset + 1));
        }
        if (compactIndex > lastIndex()) {
            throw new IllegalArgumentException("compact index " + compactIndex + " is beyond last index " + lastIndex());
        }
        int i = (int) (compactIndex - offset);
        ArrayList<Entry> kept = new ArrayList<>(entries.size() - i);
        Entry boundary = entries.get(i);
        kept.add(Entry.newBuilder().setIndex(boundary.getIndex()).setTerm(boundary.getTerm()).build());
        kept.addAll(entries.subList(i + 1, entries.size()));
        entries = kept;
    }

    /**
     * Appends entries handed out by a Ready, replacing any conflicting suffix. Entries already
     * compacted away are skipped.
     */
    public void append(List<Entry> newEntries) {
        if (newEntries.isEmpty()) {
            return;
        }
        long first = firstIndex();
        long last = newEntries.get(0).getIndex() + newEntries.size() - 1;
        if (last < first) {
            return;
        }
        List<Entry> toAdd = newEntries;
        if (first > newEntries.get(0).getIndex()) {
            toAdd = newEntries.subList((int) (first - newEntries.get(0).getIndex()), newEntries.size());
        }
        long offset = toAdd.get(0).getIndex() - offset();
        if (offset > entries.size()) {
            throw new IllegalStateException("missing log entries: last index " + lastIndex() + ", appending at "
                    + toAdd.get(0).getIndex());
        }
        if (offset < entries.size()) {
            entries = new ArrayList<>(entries.subList(0, (int) offset));
        }
        entries.addAll(toAdd);
    }
}
