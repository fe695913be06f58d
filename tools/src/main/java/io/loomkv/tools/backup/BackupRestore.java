package io.loomkv.tools.backup;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.RestoredStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code loomkv snapshot restore FILE --config-dir DIR}: the data directories of a new cluster,
 * one per node config in DIR, from a backup (etcdutl's semantics). Everything is checked first (the
 * whole backup, every group's state, the configs against the backup, empty data directories),
 * so a refused restore creates nothing; each store then gets {@link RestoredStore}'s seeding.
 */
public final class BackupRestore {
    private BackupRestore() {
    }

    /** Why a restore is refused before it starts: bad input, exit code 2. */
    public static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    public static void restore(BackupFile backup, List<NodeConfig> configs, PrintStream out) throws IOException, Refused {
        SlotLayout layout = SlotLayout.fromProto(backup.header().layout());
        List<Long> controllerStores = backup.header().controllerStores();
        check(backup, layout, configs);
        Path scratch = configs.get(0).dataDirectory().toAbsolutePath().getParent();
        List<Path> created = new ArrayList<>();
        if (!Files.exists(scratch)) {
            created.add(scratch); // Made for the extracted groups: removed again if the restore fails.
        }
        try (ExtractedBackup extracted = ExtractedBackup.extract(backup, scratch)) {
            for (NodeConfig config : configs) {
                created.add(config.dataDirectory());
                RestoredStore.create(config, layout, controllerStores, extracted.snapshots());
                out.println("store " + config.nodeId() + ": " + config.dataDirectory() + " with groups "
                        + RestoredStore.hostedGroups(config.nodeId(), layout, controllerStores));
            }
        } catch (IOException | RuntimeException e) {
            for (Path directory : created) {
                deleteTree(directory); // They were empty or absent before: nothing of anyone else's is lost.
            }
            throw e;
        }
        out.println("restored " + backup.sections().size() + " groups of cluster '" + backup.header().clusterId()
                + "' as new cluster '" + configs.get(0).clusterId() + "' (" + configs.size() + " stores); start it as usual,"
                + " e.g. ./loomkv cluster up DIR");
    }

    private static void check(BackupFile backup, SlotLayout layout, List<NodeConfig> configs) throws IOException, Refused {
        if (configs.isEmpty()) {
            throw new Refused("the config folder holds no node config");
        }
        String clusterId = configs.get(0).clusterId();
        Set<Long> members = new TreeSet<>();
        Set<Long> nodes = new HashSet<>();
        Set<Path> directories = new HashSet<>();
        for (NodeConfig config : configs) {
            if (!config.clusterId().equals(clusterId)) {
                throw new Refused("the configs name two clusters: '" + clusterId + "' and '" + config.clusterId() + "'");
            }
            if (config.join()) {
                throw new Refused("node " + config.nodeId() + " is configured to join a running cluster; a restore creates initial members");
            }
            if (config.dataGroups() != layout.groups().size()) {
                throw new Refused("node " + config.nodeId() + " says data-groups=" + config.dataGroups() + " but the backup holds "
                        + layout.groups().size() + " data groups");
            }
            if (!nodes.add(config.nodeId()) || !directories.add(config.dataDirectory().toAbsolutePath().normalize())) {
                throw new Refused("node " + config.nodeId() + " or its data directory appears twice in the configs");
            }
            config.members().stream().map(MemberAddress::id).forEach(members::add);
            try {
                RestoredStore.requireEmpty(config.dataDirectory());
            } catch (IOException e) {
                throw new Refused(e.getMessage());
            }
        }
        if (clusterId.equals(backup.header().clusterId())) {
            throw new Refused("the configs name the backed-up cluster '" + clusterId + "'; a restored cluster needs a new"
                    + " cluster-id, so that it can never join (or be joined by) the old one's stores");
        }
        Set<Long> needed = new TreeSet<>(backup.header().controllerStores());
        layout.groups().forEach(group -> needed.addAll(layout.replicas(group)));
        if (!nodes.containsAll(needed) || !members.containsAll(needed)) {
            throw new Refused("the backup places groups on stores " + needed + "; the configs have nodes " + new TreeSet<>(nodes)
                    + " (a restore keeps the store ids; their addresses may change)");
        }
        Set<Long> expected = new TreeSet<>(layout.groups());
        if (!backup.header().controllerStores().isEmpty()) {
            expected.add(GroupIds.CONTROLLER_GROUP_ID);
        }
        Set<Long> present = new TreeSet<>();
        backup.sections().forEach(section -> present.add(section.groupId()));
        if (!present.equals(expected)) {
            throw new BackupDamagedException(backup.path(), "it holds groups " + present + " but its layout needs " + expected);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                Files.delete(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
