package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.InitialState;
import io.loomkv.core.raft.Storage;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;

/**
 * The Raft core's view of a node's {@link Storage}, with the cluster's initial membership filled
 * in while the node has no snapshot yet. The durable storage only knows memberships recorded in
 * snapshots; before the first snapshot the membership is the configured initial one, and every
 * change since is replayed from the log (as etcd's bootstrap does).
 */
final class BootstrapStorage implements Storage {
    private final Storage delegate;
    private final ConfState initialMembership;

    BootstrapStorage(Storage delegate, ConfState initialMembership) {
        this.delegate = delegate;
        this.initialMembership = initialMembership;
    }

    @Override
    public InitialState initialState() {
        InitialState stored = delegate.initialState();
        if (delegate.snapshotMetadata().getIndex() > 0) {
            return stored;
        }
        return new InitialState(stored.hardState(), initialMembership);
    }

    @Override
    public List<Entry> entries(long fromIndex, long toIndexExclusive, long maxSizeBytes) {
        return delegate.entries(fromIndex, toIndexExclusive, maxSizeBytes);
    }

    @Override
    public long term(long index) {
        return delegate.term(index);
    }

    @Override
    public long firstIndex() {
        return delegate.firstIndex();
    }

    @Override
    public long lastIndex() {
        return delegate.lastIndex();
    }

    @Override
    public SnapshotMetadata snapshotMetadata() {
        return delegate.snapshotMetadata();
    }

    @Override
    public ByteString readSnapshotChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes) {
        return delegate.readSnapshotChunk(metadata, offsetBytes, maxSizeBytes);
    }
}
