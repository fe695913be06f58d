package io.loomkv.persist.raft;

import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.io.DurableFiles;
import io.loomkv.persist.snap.SnapshotFileName;
import io.loomkv.persist.snap.SnapshotStore;
import io.loomkv.persist.wal.GroupContents;
import io.loomkv.persist.wal.PinningGroup;
import io.loomkv.persist.wal.SnapshotMarker;
import io.loomkv.persist.wal.Wal;
import io.loomkv.persist.wal.WalContents;
import io.loomkv.persist.wal.WalCorruptionException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's Raft storage: one {@link Wal} in {@code wal/} shared by every group the store hosts a
 * replica of, and one {@link SnapshotStore} per group in {@code snap/<groupId>/} (the group id in
 * decimal). Each group is served by a {@link GroupStorage}.
 *
 * <p>The WAL decides which groups exist: a group exists from its first durable record
 * ({@link #createGroup} writes one) until its drop record ({@link #removeGroup}). A snapshot
 * directory of a dropped group is what a crash right after the drop leaves, and is deleted at the
 * next start; one of a group the WAL never heard of means the WAL is not the one these snapshots
 * were written with, and the store refuses to start rather than guess.
 *
 * <p>Thread-safe. Creating and removing groups are serialised with each other; the groups
 * themselves are used concurrently.
 */
public final class StoreLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreLog.class);
    private static final Pattern GROUP_DIRECTORY = Pattern.compile("0|[1-9][0-9]{0,18}");
    private static final ZstdStreamCodec CODEC = ZstdStreamCodec.withDefaults();

    private final StoreLogOptions options;
    private final Path snapshotRoot;
    private final AtomicLong entryBytes = new AtomicLong();
    private final Wal wal;
    private final Map<Long, GroupStorage> groups = new ConcurrentHashMap<>();
    private final ReentrantLock membershipLock = new ReentrantLock();

    /**
     * Where a group's recovered log starts ({@code start}: the newest snapshot file or checkpoint
     * the WAL has a marker for) and its newest valid snapshot file ({@code file}, index 0: none).
     */
    private record StartingPoint(SnapshotMetadata start, SnapshotMetadata file) {
    }

    private StoreLog(StoreLogOptions options, Path snapshotRoot, Wal wal) {
        this.options = options;
        this.snapshotRoot = snapshotRoot;
        this.wal = wal;
    }

    /**
     * Recovers every group: for each, the newest valid snapshot that the WAL has a marker for
     * (damaged ones are renamed {@code *.broken}) or, when newer, its newest checkpoint (a point its
     * persistent state machine had made durable), then its entries after that from the WAL, with
     * a check that nothing is missing.
     *
     * @throws WalCorruptionException when the WAL is damaged or a group's log does not reach back to its snapshot
     */
    public static StoreLog open(StoreLogOptions options) throws IOException {
        Path snapshotRoot = options.directory().resolve("snap");
        Files.createDirectories(snapshotRoot);
        DurableFiles.fsyncDirectory(options.directory());
        Map<Long, SnapshotStore> stores = openSnapshotStores(snapshotRoot, options);
        Map<Long, Long> oldestSnapshots = new HashMap<>();
        for (Map.Entry<Long, SnapshotStore> store : stores.entrySet()) {
            oldestSnapshots.put(store.getKey(), store.getValue().list().stream().mapToLong(SnapshotFileName::index).min().orElse(0));
        }
        Wal wal = Wal.open(options.walOptions(), id -> oldestSnapshots.getOrDefault(id, 0L));
        try {
            WalContents contents = wal.takeRecovered();
            checkSnapshotDirectoriesBelongToGroups(snapshotRoot, stores, contents);
            Map<Long, StartingPoint> chosen = chooseSnapshots(snapshotRoot, stores, contents);
            Map<Long, Long> keep = new HashMap<>();
            boolean reread = false;
            for (Map.Entry<Long, StartingPoint> group : chosen.entrySet()) {
                long oldest = oldestSnapshots.getOrDefault(group.getKey(), 0L);
                long start = group.getValue().start().getIndex();
                keep.put(group.getKey(), Math.min(oldest, start));
                reread |= start < oldest;
            }
            if (reread) {
                // The snapshots some groups hoped to start from are unusable: read the WAL again, keeping their entries from the ones chosen.
                wal.close();
                wal = Wal.open(options.walOptions(), id -> keep.getOrDefault(id, 0L));
                contents = wal.takeRecovered();
            }
            StoreLog log = new StoreLog(options, snapshotRoot, wal);
            log.recoverGroups(stores, chosen, contents);
            return log;
        } catch (IOException | RuntimeException e) {
            wal.close();
            throw e;
        }
    }

    private static Map<Long, SnapshotStore> openSnapshotStores(Path snapshotRoot, StoreLogOptions options) throws IOException {
        Map<Long, SnapshotStore> stores = new TreeMap<>();
        try (Stream<Path> entries = Files.list(snapshotRoot)) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!Files.isDirectory(entry) || !GROUP_DIRECTORY.matcher(name).matches()) {
                    throw new IOException("unexpected " + entry + ": " + snapshotRoot + " holds one directory per group, named by its id"
                            + (name.endsWith(".snap") ? " (a snapshot file here was written by the single-group layout)" : ""));
                }
                stores.put(Long.parseLong(name), new SnapshotStore(entry, CODEC, options.maxSnapshotBytes()));
            }
        }
        return stores;
    }

    /** Deletes the snapshot directories of dropped groups; refuses those of groups the WAL never held. */
    private static void checkSnapshotDirectoriesBelongToGroups(Path snapshotRoot, Map<Long, SnapshotStore> stores, WalContents contents)
            throws IOException {
        for (long id : List.copyOf(stores.keySet())) {
            if (contents.group(id) != null) {
                continue;
            }
            if (!contents.droppedGroups().contains(id)) {
                throw new WalCorruptionException(snapshotRoot.resolve(Long.toString(id)), 0, "snapshots of group " + id
                        + ", of which the WAL holds no record: the WAL in this directory is not the one they were written with");
            }
            LOG.info("deleting the snapshots of group {}, dropped before the last stop", id);
            deleteRecursively(snapshotRoot.resolve(Long.toString(id)));
            DurableFiles.fsyncDirectory(snapshotRoot);
            stores.remove(id);
        }
    }

    private static Map<Long, StartingPoint> chooseSnapshots(Path snapshotRoot, Map<Long, SnapshotStore> stores, WalContents contents)
            throws IOException {
        Map<Long, StartingPoint> chosen = new HashMap<>();
        for (GroupContents group : contents.groups().values()) {
            SnapshotStore store = stores.get(group.groupId());
            SnapshotMetadata file = SnapshotMetadata.getDefaultInstance();
            if (store != null) {
                // Any marker at the file's index and term will do: a crash between a checkpoint's
                // file and the file's own marker leaves only the checkpoint's, for the same state.
                file = store.selectNewestValid(name -> group.markers().stream()
                        .anyMatch(marker -> marker.index() == name.index() && marker.term() == name.term()))
                        .orElse(SnapshotMetadata.getDefaultInstance());
            }
            SnapshotMetadata start = file;
            for (SnapshotMarker marker : group.markers()) {
                if (marker.checkpoint() && marker.index() > start.getIndex()) {
                    start = marker.metadata();
                }
            }
            chosen.put(group.groupId(), new StartingPoint(start, file));
        }
        return chosen;
    }

    private void recoverGroups(Map<Long, SnapshotStore> stores, Map<Long, StartingPoint> chosen, WalContents contents) throws IOException {
        long entries = 0;
        List<CompletableFuture<Integer>> releases = new ArrayList<>();
        for (GroupContents group : contents.groups().values()) {
            SnapshotStore store = stores.get(group.groupId());
            if (store == null) {
                store = createSnapshotStore(group.groupId());
            }
            StartingPoint point = chosen.get(group.groupId());
            SnapshotMetadata snapshot = point.start();
            GroupStorage storage = GroupStorage.recover(wal, store, options.keepSnapshots(), snapshot, point.file(), group, entryBytes);
            groups.put(group.groupId(), storage);
            entries += group.lastIndex() - snapshot.getIndex();
            // As before the restart, the group needs its log only from its previous snapshot or checkpoint on (one fallback).
            long previousFile = store.list().stream().mapToLong(SnapshotFileName::index).filter(index -> index < snapshot.getIndex()).max().orElse(0);
            long previousCheckpoint = group.markers().stream().filter(SnapshotMarker::checkpoint).mapToLong(SnapshotMarker::index)
                    .filter(index -> index < snapshot.getIndex()).max().orElse(0);
            long previous = Math.max(previousFile, previousCheckpoint);
            if (previous > 0) {
                releases.add(wal.releaseTo(group.groupId(), previous));
            }
        }
        for (CompletableFuture<Integer> release : releases) {
            await(release);
        }
        LOG.info("recovered the Raft storage of {} groups in {}: {} entries after their snapshots, {} WAL segments", groups.size(),
                options.directory(), entries, wal.segmentCount());
    }

    private SnapshotStore createSnapshotStore(long groupId) throws IOException {
        SnapshotStore store = new SnapshotStore(snapshotRoot.resolve(Long.toString(groupId)), CODEC, options.maxSnapshotBytes());
        // The new directory's name must be durable before a snapshot in it is relied on.
        DurableFiles.fsyncDirectory(snapshotRoot);
        return store;
    }

    /** The groups this store holds, by id. */
    public Map<Long, GroupStorage> groups() {
        return Collections.unmodifiableMap(new TreeMap<>(groups));
    }

    /**
     * The storage of a group this store holds.
     *
     * @throws IllegalArgumentException when it holds no such group
     */
    public GroupStorage group(long groupId) {
        GroupStorage storage = groups.get(groupId);
        if (storage == null) {
            throw new IllegalArgumentException("this store holds no group " + groupId);
        }
        return storage;
    }

    /**
     * An empty storage for a new replica of {@code groupId}, durable when this returns (its first
     * WAL record says the group exists). Blocks for one WAL force.
     *
     * @throws IllegalArgumentException when the store already holds the group, or the id is negative
     */
    public GroupStorage createGroup(long groupId) throws IOException {
        if (groupId < 0) {
            throw new IllegalArgumentException("group id must be >= 0, got " + groupId);
        }
        membershipLock.lock();
        try {
            if (groups.containsKey(groupId)) {
                throw new IllegalArgumentException("this store already holds group " + groupId);
            }
            await(wal.append(groupId, HardState.getDefaultInstance(), List.of(), true));
            SnapshotStore store = createSnapshotStore(groupId);
            GroupStorage storage = new GroupStorage(groupId, wal, store, options.keepSnapshots(), SnapshotMetadata.getDefaultInstance(),
                    SnapshotMetadata.getDefaultInstance(), HardState.getDefaultInstance(), List.of(), entryBytes);
            groups.put(groupId, storage);
            LOG.info("created the storage of group {}", groupId);
            return storage;
        } finally {
            membershipLock.unlock();
        }
    }

    /**
     * Removes a group whose replica left this store: a durable WAL record drops it (its records no
     * longer hold any segment, and recovery will not bring it back), then its snapshots are
     * deleted. Its {@link GroupStorage} refuses writes from here on; stop the replica first.
     *
     * @throws IllegalArgumentException when the store holds no such group
     */
    public void removeGroup(long groupId) throws IOException {
        membershipLock.lock();
        try {
            GroupStorage storage = group(groupId);
            storage.markRemoved();
            await(wal.dropGroup(groupId));
            groups.remove(groupId);
            deleteRecursively(snapshotRoot.resolve(Long.toString(groupId)));
            DurableFiles.fsyncDirectory(snapshotRoot);
            LOG.info("removed the storage of group {}", groupId);
        } finally {
            membershipLock.unlock();
        }
    }

    /**
     * The groups whose old entries keep WAL segments beyond {@link StoreLogOptions#maxRetainedSegments()}
     * alive, oldest first. For each, the store should take a snapshot at or above
     * {@link PinningGroup#releaseIndexNeeded()} and call {@link GroupStorage#releaseWalTo}, or, when
     * those entries are not applied yet, {@link GroupStorage#rewrite()}.
     */
    public List<PinningGroup> pinningGroups() {
        return wal.pinningGroups();
    }

    /** Reports the WAL's writes and forces to {@code observer} from now on (metrics). */
    public void observeWal(io.loomkv.persist.wal.WalObserver observer) {
        wal.observe(observer);
    }

    /**
     * The data bytes of all groups' entries held in memory (each group's log after its snapshot):
     * what the store's heap holds of its logs, for back-pressure and metrics.
     */
    public long entryBytesInMemory() {
        return entryBytes.get();
    }

    /** Number of WAL force() calls so far (0 with fsync off); for tests and metrics. */
    public long walForceCount() {
        return wal.forceCount();
    }

    public int walSegmentCount() {
        return wal.segmentCount();
    }

    /** Bytes the WAL's segments take on disk. */
    public long walSegmentBytes() {
        return wal.segmentBytes();
    }

    /** The WAL's error if it stopped (the store must then stop too), else null. */
    public Throwable failure() {
        return wal.failure();
    }

    private static <T> T await(CompletableFuture<T> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the WAL", e);
        } catch (ExecutionException e) {
            throw new IOException("WAL write failed", e.getCause());
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }

    @Override
    public void close() throws IOException {
        wal.close();
    }
}
