package io.loomkv.net.node;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.persist.identity.DataDirectoryEngine;
import io.loomkv.persist.identity.DataDirectoryIdentity;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.raft.StoreLog;
import io.loomkv.persist.raft.StoreLogOptions;
import io.loomkv.persist.snap.SnapshotFile;
import io.loomkv.persist.snap.SnapshotReceiver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * Creates one store's data directory for a cluster restored from a backup ({@code loomkv snapshot
 * restore}): the new cluster's identity, the backed-up layout and controller stores, and for each
 * group the store hosts, the group's backed-up state as the group's only snapshot, with the new
 * cluster's membership (the layout's replicas, or the controller stores for group 0) at term 1 and
 * an empty log after it. On start, the store finds the groups in its log (so it does not bootstrap
 * them), each replica restores its state machine from that snapshot (on every engine: see
 * {@link GroupEngines#open}), and Raft goes on from there: what a follower that received the
 * snapshot from a leader would hold. The new cluster id keeps the old cluster's stores out.
 */
public final class RestoredStore {
    /** The term of the restored snapshots; the first election of the new cluster moves past it. */
    static final long RESTORED_TERM = 1;

    private RestoredStore() {
    }

    /**
     * Writes the data directory of {@code config}, which must be absent or empty.
     *
     * @param snapshots each group's verified snapshot file from the backup, by group id (every group this store hosts)
     */
    public static void create(NodeConfig config, SlotLayout layout, List<Long> controllerStores, Map<Long, SnapshotFile> snapshots)
            throws IOException {
        Path data = config.dataDirectory();
        requireEmpty(data);
        Files.createDirectories(data);
        new DataDirectoryIdentity(config.clusterId(), config.nodeId()).claimOrVerify(data);
        new DataDirectoryEngine(config.engine().kind().configName()).claimOrVerify(data, Store.RAFT_DIRECTORY);
        LayoutFile.write(data, layout);
        ControllerStores.write(data, controllerStores);
        try (StoreLog log = StoreLog.open(StoreLogOptions.defaults(data.resolve(Store.RAFT_DIRECTORY)).withFsync(true))) {
            for (long group : hostedGroups(config.nodeId(), layout, controllerStores)) {
                SnapshotFile snapshot = snapshots.get(group);
                if (snapshot == null) {
                    throw new IllegalArgumentException("store " + config.nodeId() + " hosts group " + group
                            + ", which the backup does not hold");
                }
                List<Long> members = group == GroupIds.CONTROLLER_GROUP_ID ? controllerStores : layout.replicas(group);
                seedGroup(log.createGroup(group), snapshot, members);
            }
        }
    }

    /** The groups a store of the new cluster hosts: those the layout places on it, and group 0 on the controller stores. */
    public static List<Long> hostedGroups(long storeId, SlotLayout layout, List<Long> controllerStores) {
        List<Long> groups = new ArrayList<>();
        if (controllerStores.contains(storeId)) {
            groups.add(GroupIds.CONTROLLER_GROUP_ID);
        }
        for (long group : layout.groups()) {
            if (layout.replicas(group).contains(storeId)) {
                groups.add(group);
            }
        }
        return groups;
    }

    /** Absent, or a directory with nothing in it: a restore never mixes a backup with other data. */
    public static void requireEmpty(Path dataDirectory) throws IOException {
        if (!Files.exists(dataDirectory)) {
            return;
        }
        if (!Files.isDirectory(dataDirectory)) {
            throw new IOException("data directory " + dataDirectory + " is a file");
        }
        try (Stream<Path> entries = Files.list(dataDirectory)) {
            if (entries.findAny().isPresent()) {
                throw new IOException("data directory " + dataDirectory + " is not empty; a restore creates a new cluster"
                        + " and needs empty (or absent) data directories");
            }
        }
    }

    private static void seedGroup(GroupStorage storage, SnapshotFile snapshot, List<Long> members) throws IOException {
        long index = snapshot.metadata().getIndex();
        SnapshotMetadata metadata = SnapshotMetadata.newBuilder().setIndex(index).setTerm(RESTORED_TERM)
                .setConfState(ConfState.newBuilder().addAllVoters(members.stream().sorted().toList())).build();
        SnapshotMetadata received;
        try (SnapshotReceiver receiver = storage.receiveSnapshot(metadata)) {
            snapshot.copyTo(receiver, metadata);
            received = receiver.finish();
        }
        storage.installSnapshot(received);
        try {
            storage.append(HardState.newBuilder().setTerm(RESTORED_TERM).setCommit(index).build(), List.of(), true).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing group " + storage.groupId() + "'s hard state", e);
        } catch (ExecutionException e) {
            throw new IOException("writing group " + storage.groupId() + "'s hard state failed", e.getCause());
        }
    }
}
