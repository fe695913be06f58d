package io.loomkv.tools.backup;

import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.StoreAddress;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code ctl snapshot save FILE}: an online backup of a whole cluster. Reads the layout from any
 * store, then pulls every group's snapshot (group 0, the shard controller, and each data group)
 * from its leader ({@link GroupSnapshotFetch}), each one a consistent state of its group at one
 * applied index, and writes them into one checksummed file ({@link BackupWriter}). Groups are
 * taken one after the other, so the backup is consistent per group, not across groups (as with a
 * backup of each TiKV region). Writes go on meanwhile.
 */
public final class ClusterBackup {
    /** How long one group may take to find a leader and hand over its snapshot (several tries). */
    static final Duration GROUP_DEADLINE = Duration.ofMinutes(5);

    private ClusterBackup() {
    }

    /** Writes the backup to {@code file} (replacing it only once the new one is whole) and returns it, checked. */
    public static BackupFile save(KvClient client, String clusterId, List<InetSocketAddress> seeds, Path file,
            PrintStream progress) throws IOException, InterruptedException {
        Path absolute = file.toAbsolutePath();
        if (!Files.isDirectory(absolute.getParent())) {
            throw new IOException("folder " + absolute.getParent() + " does not exist");
        }
        if (Files.isDirectory(absolute)) {
            throw new IOException(absolute + " is a folder; name the backup file");
        }
        LayoutReply cluster = layout(client, seeds);
        SlotLayout layout = SlotLayout.fromProto(cluster.getLayout()); // A malformed one is refused here, not by a restore.
        Set<InetSocketAddress> stores = new LinkedHashSet<>(seeds);
        for (StoreAddress store : cluster.getStoresList()) {
            stores.add(MemberAddress.parseHostPort(store.getClientAddress()));
        }
        TreeSet<Long> groups = new TreeSet<>(layout.groups());
        if (!cluster.getControllerStoreIdsList().isEmpty()) {
            groups.add(GroupIds.CONTROLLER_GROUP_ID);
        }
        BackupHeader header = new BackupHeader(clusterId, System.currentTimeMillis(), cluster.getLayout(),
                cluster.getControllerStoreIdsList(), groups.size());
        Path work = Files.createTempDirectory(absolute.getParent(), absolute.getFileName() + ".groups-");
        GroupSnapshotFetch fetch = new GroupSnapshotFetch(client, new ArrayList<>(stores));
        try (BackupWriter writer = BackupWriter.create(absolute, header)) {
            for (long group : groups) {
                Path snapshot = work.resolve("group-" + group + ".snap");
                SnapshotMetadata metadata = fetch.fetch(group, snapshot, GROUP_DEADLINE);
                writer.addSection(group, metadata.getIndex(), metadata.getTerm(), snapshot);
                Files.delete(snapshot);
                progress.println("group " + group + ": applied index " + metadata.getIndex() + ", " + metadata.getSizeBytes()
                        + " bytes");
            }
            writer.finish();
        } finally {
            try (var left = Files.list(work)) {
                for (Path path : (Iterable<Path>) left::iterator) {
                    Files.deleteIfExists(path);
                }
            }
            Files.deleteIfExists(work);
        }
        return BackupFile.open(absolute);
    }

    private static LayoutReply layout(KvClient client, List<InetSocketAddress> seeds) throws IOException {
        List<String> failures = new ArrayList<>();
        for (InetSocketAddress seed : seeds) {
            try {
                return client.layoutOf(seed);
            } catch (RuntimeException e) {
                failures.add(MemberAddress.format(seed) + ": " + e.getMessage());
            }
        }
        throw new IOException("no store answered for the layout: " + failures);
    }
}
