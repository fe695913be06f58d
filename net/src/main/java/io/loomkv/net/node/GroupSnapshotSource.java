package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.SnapshotUnavailableException;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.net.rpc.CallContext;
import io.loomkv.net.store.proto.GroupSnapshotReply;
import io.loomkv.net.store.proto.GroupSnapshotRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.function.LongFunction;

/**
 * Serves {@link NodeMethods#GROUP_SNAPSHOT}: a group's snapshot file from its leader, in bounded
 * chunks, for {@code ctl snapshot save}. The snapshot is the one the replica writes for
 * InstallSnapshot anyway (the state machine captured on its apply thread at one applied index and
 * written from a point-in-time engine view), so writes go on while a backup runs. A backup's
 * first call asks the apply stage for a snapshot file that covers the leader's log as of the
 * call, and so every write acknowledged before it, and waits until it is durable (a checkpoint
 * will not do: it has no file to read).
 *
 * <p>Waiting for the snapshot and reading the file block, so each call runs on a virtual thread
 * of its own (RPC handlers must not block the connection's reader), at most
 * {@link #MAX_CONCURRENT_CALLS} at a time: more are refused, and the client retries.
 */
final class GroupSnapshotSource {
    static final int MAX_CHUNK_BYTES = 4 << 20;
    static final int MAX_CONCURRENT_CALLS = 4;
    static final long SNAPSHOT_WAIT_MILLIS = 60_000;
    private static final long POLL_MILLIS = 10;

    private final long storeId;
    private final LongFunction<Replica> replicas;
    private final Membership addresses;
    private final Semaphore calls = new Semaphore(MAX_CONCURRENT_CALLS);

    GroupSnapshotSource(long storeId, LongFunction<Replica> replicas, Membership addresses) {
        this.storeId = storeId;
        this.replicas = replicas;
        this.addresses = addresses;
    }

    CompletionStage<GroupSnapshotReply> serve(GroupSnapshotRequest request, CallContext context) {
        if (request.getMaxChunkBytes() < 1 || request.getMaxChunkBytes() > MAX_CHUNK_BYTES) {
            return done(refused("max_chunk_bytes must be 1.." + MAX_CHUNK_BYTES + ", got " + request.getMaxChunkBytes()));
        }
        Replica replica = replicas.apply(request.getGroupId());
        if (replica == null) {
            return done(GroupSnapshotReply.newBuilder().setLeader(false)
                    .setError("store " + storeId + " hosts no replica of group " + request.getGroupId()).build());
        }
        if (!replica.state().isLeader() || replica.state().removed()) {
            return done(notLeader(replica));
        }
        if (!calls.tryAcquire()) {
            return done(refused("store " + storeId + " is already serving " + MAX_CONCURRENT_CALLS + " snapshot calls; retry"));
        }
        CompletableFuture<GroupSnapshotReply> reply = new CompletableFuture<>();
        Thread.ofVirtual().name("group-snapshot-" + request.getGroupId()).start(() -> {
            try {
                reply.complete(request.getSnapshotIndex() == 0 ? begin(replica, request) : chunk(replica, request));
            } catch (RuntimeException e) {
                reply.complete(refused(replica.name() + ": " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reply.complete(refused("interrupted"));
            } finally {
                calls.release();
            }
        });
        return reply;
    }

    /**
     * Makes sure a snapshot covers the leader's log as of now, then sends its first chunk. The
     * target is the last index of the leader's log, not its applied index: a new leader holds every
     * committed entry (leader completeness) but may not have applied those its predecessor
     * acknowledged yet. Waiting for them to apply waits for their commit, which a leader without
     * a quorum never sees: it times out, and the client asks again.
     */
    private GroupSnapshotReply begin(Replica replica, GroupSnapshotRequest request) throws InterruptedException {
        long target = Math.max(replica.state().appliedIndex(), replica.storage().lastIndex());
        long deadline = System.nanoTime() + SNAPSHOT_WAIT_MILLIS * 1_000_000;
        // Asked for once the target applied (one taken before would be of less); a snapshot in
        // progress then does not swallow the request: the applier takes the next one after it.
        boolean asked = false;
        while (replica.storage().snapshotFileMetadata().getIndex() < target) {
            if (!asked && replica.state().appliedIndex() >= target) {
                replica.applier().requestSnapshotFile();
                asked = true;
            }
            if (replica.state().failure() != null) {
                return refused(replica.name() + " failed: " + replica.state().failure());
            }
            if (System.nanoTime() > deadline) {
                return refused(replica.name() + ": no snapshot at or after index " + target + " within "
                        + SNAPSHOT_WAIT_MILLIS + " ms");
            }
            Thread.sleep(POLL_MILLIS);
        }
        SnapshotMetadata metadata = replica.storage().snapshotFileMetadata();
        return read(replica, metadata, 0, request.getMaxChunkBytes());
    }

    private GroupSnapshotReply chunk(Replica replica, GroupSnapshotRequest request) {
        SnapshotMetadata current = replica.storage().snapshotFileMetadata();
        if (current.getIndex() != request.getSnapshotIndex() || current.getTerm() != request.getSnapshotTerm()) {
            return replaced(current);
        }
        return read(replica, current, request.getOffsetBytes(), request.getMaxChunkBytes());
    }

    private GroupSnapshotReply read(Replica replica, SnapshotMetadata metadata, long offsetBytes, int maxChunkBytes) {
        if (offsetBytes > metadata.getSizeBytes()) {
            return refused("offset " + offsetBytes + " is beyond the snapshot's " + metadata.getSizeBytes() + " bytes");
        }
        ByteString chunk;
        try {
            chunk = replica.storage().readSnapshotChunk(metadata, offsetBytes, maxChunkBytes);
        } catch (SnapshotUnavailableException e) {
            return replaced(replica.storage().snapshotFileMetadata());
        }
        return GroupSnapshotReply.newBuilder().setLeader(true).setLeaderId(storeId).setMetadata(metadata).setChunk(chunk).build();
    }

    private GroupSnapshotReply replaced(SnapshotMetadata current) {
        return GroupSnapshotReply.newBuilder().setLeader(true).setLeaderId(storeId).setReplaced(true)
                .setError("the snapshot was replaced by a newer one (index " + current.getIndex() + "); start the group again")
                .build();
    }

    private GroupSnapshotReply notLeader(Replica replica) {
        GroupSnapshotReply.Builder reply = GroupSnapshotReply.newBuilder().setLeader(false);
        long leader = replica.state().leaderId();
        MemberAddress address = leader == 0 || leader == storeId ? null : addresses.get(leader);
        if (address != null) {
            reply.setLeaderId(leader).setLeaderAddress(MemberAddress.format(address.clientAddress()));
        }
        return reply.build();
    }

    private GroupSnapshotReply refused(String why) {
        return GroupSnapshotReply.newBuilder().setLeader(true).setLeaderId(storeId).setError(why).build();
    }

    private static CompletionStage<GroupSnapshotReply> done(GroupSnapshotReply reply) {
        return CompletableFuture.completedFuture(reply);
    }
}
