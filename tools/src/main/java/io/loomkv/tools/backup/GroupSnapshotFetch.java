package io.loomkv.tools.backup;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.store.proto.GroupSnapshotReply;
import io.loomkv.net.store.proto.GroupSnapshotRequest;
import io.loomkv.persist.snap.SnapshotFile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Downloads one group's snapshot file from its leader into a local file, in chunks of
 * {@link #CHUNK_BYTES}, and verifies it. Finds the leader by asking the stores in turn and
 * following their hints; starts the group over when the leader replaced the snapshot while it was
 * being read (a newer one pruned it), changed, or failed, until {@code deadline}.
 */
final class GroupSnapshotFetch {
    static final int CHUNK_BYTES = 1 << 20;
    /** The first call may wait for the leader to write a snapshot (it gives up after 60 s). */
    static final Duration BEGIN_TIMEOUT = Duration.ofSeconds(70);
    static final Duration CHUNK_TIMEOUT = Duration.ofSeconds(30);
    private static final long RETRY_PAUSE_MILLIS = 100;

    private final KvClient client;
    private final List<InetSocketAddress> stores;

    GroupSnapshotFetch(KvClient client, List<InetSocketAddress> stores) {
        if (stores.isEmpty()) {
            throw new IllegalArgumentException("no store to ask");
        }
        this.client = client;
        this.stores = List.copyOf(stores);
    }

    /** The verified snapshot of {@code groupId} in {@code target} (replaced if present); its metadata. */
    SnapshotMetadata fetch(long groupId, Path target, Duration deadline) throws IOException, InterruptedException {
        long deadlineNanos = System.nanoTime() + deadline.toNanos();
        String last = "no store answered";
        InetSocketAddress hint = null;
        int next = 0;
        while (System.nanoTime() < deadlineNanos) {
            InetSocketAddress store = hint != null ? hint : stores.get(next++ % stores.size());
            hint = null;
            GroupSnapshotReply reply;
            try {
                reply = client.groupSnapshot(store, GroupSnapshotRequest.newBuilder().setGroupId(groupId)
                        .setMaxChunkBytes(CHUNK_BYTES).build(), BEGIN_TIMEOUT);
            } catch (RuntimeException e) {
                last = MemberAddress.format(store) + ": " + e.getMessage();
                Thread.sleep(RETRY_PAUSE_MILLIS);
                continue;
            }
            if (!reply.getLeader()) {
                hint = parseHint(reply.getLeaderAddress());
                last = MemberAddress.format(store) + " does not lead group " + groupId
                        + (reply.getError().isEmpty() ? "" : ": " + reply.getError());
                if (hint == null) {
                    Thread.sleep(RETRY_PAUSE_MILLIS);
                }
                continue;
            }
            if (!reply.getError().isEmpty()) {
                last = MemberAddress.format(store) + ": " + reply.getError();
                Thread.sleep(RETRY_PAUSE_MILLIS);
                continue;
            }
            Optional<SnapshotMetadata> done = download(store, groupId, reply, target);
            if (done.isPresent()) {
                return done.get();
            }
            last = MemberAddress.format(store) + ": the snapshot changed or the leader stopped answering while it was read";
        }
        throw new IOException("group " + groupId + ": no leader handed over its snapshot within " + deadline.toSeconds()
                + " s; last: " + last);
    }

    /** Empty when the group must start over (snapshot replaced, leader gone). */
    private Optional<SnapshotMetadata> download(InetSocketAddress store, long groupId, GroupSnapshotReply first, Path target)
            throws IOException {
        SnapshotMetadata metadata = first.getMetadata();
        long size = metadata.getSizeBytes();
        if (size <= 0 || metadata.getIndex() <= 0) {
            throw new IOException("group " + groupId + ": " + MemberAddress.format(store) + " named a snapshot without a size or index: "
                    + metadata);
        }
        Files.deleteIfExists(target);
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long offset = 0;
            ByteString chunk = first.getChunk();
            while (true) {
                if (offset + chunk.size() > size) {
                    throw new IOException("group " + groupId + ": the leader sent more than the snapshot's " + size + " bytes");
                }
                var buffer = chunk.asReadOnlyByteBuffer();
                while (buffer.hasRemaining()) {
                    out.write(buffer, offset + (chunk.size() - buffer.remaining()));
                }
                offset += chunk.size();
                if (offset == size) {
                    break;
                }
                if (chunk.isEmpty()) {
                    throw new IOException("group " + groupId + ": the snapshot ended at " + offset + " of its " + size + " bytes");
                }
                GroupSnapshotReply reply;
                try {
                    reply = client.groupSnapshot(store, GroupSnapshotRequest.newBuilder().setGroupId(groupId)
                            .setSnapshotIndex(metadata.getIndex()).setSnapshotTerm(metadata.getTerm()).setOffsetBytes(offset)
                            .setMaxChunkBytes(CHUNK_BYTES).build(), CHUNK_TIMEOUT);
                } catch (RuntimeException e) {
                    return Optional.empty();
                }
                if (!reply.getLeader() || !reply.getError().isEmpty()) {
                    return Optional.empty();
                }
                chunk = reply.getChunk();
            }
            out.force(true);
        }
        SnapshotMetadata verified = SnapshotFile.open(target).metadata();
        if (verified.getIndex() != metadata.getIndex() || verified.getTerm() != metadata.getTerm()) {
            throw new IOException("group " + groupId + ": the snapshot file says index " + verified.getIndex() + " term "
                    + verified.getTerm() + ", the leader said " + metadata.getIndex() + " / " + metadata.getTerm());
        }
        return Optional.of(verified);
    }

    private static InetSocketAddress parseHint(String address) {
        if (address == null || address.isEmpty()) {
            return null;
        }
        try {
            return MemberAddress.parseHostPort(address);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
