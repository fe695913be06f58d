package io.loomkv.tools.backup;

import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvSnapshotSummary;
import io.loomkv.persist.snap.SnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A backup's groups taken out into snapshot files in a temporary folder and read through: each
 * file's own checksum, then its state as a restore would read it (every key, the trailer's counts
 * and checksum), and the applied index the section names. What {@code snapshot status} reports
 * and what a restore checks before it creates anything. Close to delete the folder.
 */
public final class ExtractedBackup implements AutoCloseable {
    /** What a decompressed group may expand to: bounds a damaged file. */
    static final long MAX_GROUP_STATE_BYTES = 256L << 30;
    /** Above any cluster's limits: they only bound a record's size while reading. */
    static final KvLimits READ_LIMITS = KvLimits.defaults().withMaxRequestBytes(256 << 20).withMaxReplyBytes(256 << 20)
            .withMaxKeyBytes(1 << 20).withMaxValueBytes(128 << 20);

    private final Path folder;
    private final Map<Long, SnapshotFile> snapshots;
    private final List<GroupSummary> summaries;

    private ExtractedBackup(Path folder, Map<Long, SnapshotFile> snapshots, List<GroupSummary> summaries) {
        this.folder = folder;
        this.snapshots = Collections.unmodifiableMap(snapshots);
        this.summaries = List.copyOf(summaries);
    }

    /** Extracts into a new temporary folder under {@code parent}; throws (leaving nothing behind) on any damage. */
    public static ExtractedBackup extract(BackupFile backup, Path parent) throws IOException {
        Files.createDirectories(parent);
        Path folder = Files.createTempDirectory(parent, "loomkv-restore-");
        try {
            Map<Long, SnapshotFile> snapshots = new TreeMap<>();
            List<GroupSummary> summaries = new ArrayList<>();
            ZstdStreamCodec codec = ZstdStreamCodec.withDefaults();
            for (BackupSection section : backup.sections()) {
                Path file = folder.resolve("group-" + section.groupId() + ".snap");
                backup.extract(section, file);
                SnapshotFile snapshot = open(backup, section, file);
                KvSnapshotSummary summary;
                try (InputStream in = snapshot.openData(codec, MAX_GROUP_STATE_BYTES)) {
                    summary = KvSnapshotSummary.read(in, READ_LIMITS, section.groupId());
                } catch (IOException | RuntimeException e) {
                    throw new BackupDamagedException(backup.path(), "group " + section.groupId() + "'s state: " + e.getMessage());
                }
                if (summary.lastAppliedIndex() != section.appliedIndex() || snapshot.metadata().getIndex() != section.appliedIndex()) {
                    throw new BackupDamagedException(backup.path(), "group " + section.groupId() + " is listed at index "
                            + section.appliedIndex() + " but its snapshot is at " + summary.lastAppliedIndex());
                }
                snapshots.put(section.groupId(), snapshot);
                summaries.add(new GroupSummary(section.groupId(), section.appliedIndex(), summary.keyCount(),
                        summary.sessionCount(), summary.dataBytes(), section.lengthBytes()));
            }
            return new ExtractedBackup(folder, snapshots, summaries);
        } catch (IOException | RuntimeException e) {
            deleteFolder(folder);
            throw e;
        }
    }

    private static SnapshotFile open(BackupFile backup, BackupSection section, Path file) throws IOException {
        try {
            return SnapshotFile.open(file);
        } catch (IOException e) {
            throw new BackupDamagedException(backup.path(), "group " + section.groupId() + "'s snapshot: " + e.getMessage());
        }
    }

    /** By group id; valid until {@link #close}. */
    public Map<Long, SnapshotFile> snapshots() {
        return snapshots;
    }

    /** In ascending group id. */
    public List<GroupSummary> summaries() {
        return summaries;
    }

    @Override
    public void close() throws IOException {
        deleteFolder(folder);
    }

    private static void deleteFolder(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(file);
            }
        }
        Files.deleteIfExists(folder);
    }
}
