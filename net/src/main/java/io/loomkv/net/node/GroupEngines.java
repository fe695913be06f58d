package io.loomkv.net.node;

import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.engine.bitcask.BitcaskKvEngine;
import io.loomkv.engine.btree.MvStoreKvEngine;
import io.loomkv.engine.btree.MvStoreOptions;
import io.loomkv.engine.rocksdb.RocksDbKvEngine;
import io.loomkv.engine.rocksdb.RocksDbOptions;
import io.loomkv.engine.rocksdb.RocksDbSharedMemory;
import io.loomkv.persist.bitcask.BitcaskOptions;
import io.loomkv.persist.engine.MemoryKvEngine;
import io.loomkv.persist.raft.GroupStorage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage engines of a store's groups: one engine per group (see docs/engines.md, "One engine
 * per group"), in {@code <data-dir>/engine/group-<id>}, opened when the group's replica is and
 * closed with the store. Group 0, the shard controller, always runs on the memory engine (its
 * state is small and lives in its snapshots). RocksDB databases share one block cache and
 * memtable budget of the config's sizes ({@link RocksDbSharedMemory}), however many groups come;
 * the btree's page cache is shared out evenly over the groups hosted when the store started.
 */
final class GroupEngines implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupEngines.class);
    static final String DIRECTORY = "engine";

    private final long storeId;
    private final EngineConfig config;
    private final Path root;
    private final int groupsSharing;
    private final ConcurrentHashMap<Long, PersistentKvEngine> open = new ConcurrentHashMap<>();
    /** RocksDB: the store's one block cache and memtable budget, shared by every group's database; else null. */
    private final RocksDbSharedMemory rocksDbMemory;

    GroupEngines(long storeId, EngineConfig config, Path dataDirectory, int groupsSharing) {
        this.storeId = storeId;
        this.config = config;
        this.root = dataDirectory.resolve(DIRECTORY);
        this.groupsSharing = Math.max(1, groupsSharing);
        this.rocksDbMemory = config.kind() == EngineKind.ROCKSDB
                ? new RocksDbSharedMemory(config.rocksdbBlockCacheBytes(), config.rocksdbWriteBufferBytes()) : null;
    }

    /** The shared RocksDB memory (null on other engines): its usage is the store's, not any group's. */
    RocksDbSharedMemory rocksDbMemory() {
        return rocksDbMemory;
    }

    EngineKind kind() {
        return config.kind();
    }

    /**
     * Recovers group {@code groupId}'s state machine. On a persistent engine it starts from the
     * engine's own state, and from the group's newest snapshot file only when the engine is behind
     * that (a new engine, or a power loss that took unsynced writes from before the snapshot); on
     * the memory engine from the snapshot. Either way the log after the returned machine's
     * applied index is what remains to replay.
     */
    KvStateMachine open(long groupId, KvLimits limits, SlotSet ownedSlots, GroupStorage storage, long maxSnapshotBytes)
            throws IOException {
        long snapshotIndex = storage.snapshotMetadata().getIndex();
        KvStateMachine machine;
        if (config.kind() == EngineKind.MEMORY || groupId == GroupIds.CONTROLLER_GROUP_ID) {
            machine = new KvStateMachine(new MemoryKvEngine(), limits, SessionPolicy.defaults(), groupId, ownedSlots);
        } else {
            PersistentKvEngine engine = openEngine(groupId);
            try {
                machine = KvStateMachine.onPersistentEngine(engine, limits, SessionPolicy.defaults(), groupId, ownedSlots);
            } catch (RuntimeException e) {
                close(groupId);
                throw e;
            }
            if (machine.lastAppliedIndex() >= snapshotIndex) {
                LOG.info("store {} group {}: {} engine at applied index {} (snapshot at {}); replaying the log after it",
                        storeId, groupId, config.kind().configName(), machine.lastAppliedIndex(), snapshotIndex);
                return machine;
            }
            if (storage.startsAtCheckpoint()) {
                long applied = machine.lastAppliedIndex();
                close(groupId);
                // The checkpoint was recorded only after the engine synced up to it: the engine lost
                // synced writes (or was replaced), and the log before the checkpoint is gone.
                throw new IOException("store " + storeId + " group " + groupId + ": the " + config.kind().configName()
                        + " engine is at applied index " + applied + ", behind the group's checkpoint at " + snapshotIndex
                        + " (recorded after the engine had made everything up to it durable), and there is no snapshot file"
                        + " to restore it from: the engine lost synced data. Restore this store from a backup, or remove its"
                        + " replica of the group so the leader sends it a snapshot");
            }
            LOG.info("store {} group {}: {} engine at applied index {}, behind the snapshot at {}; restoring the snapshot",
                    storeId, groupId, config.kind().configName(), machine.lastAppliedIndex(), snapshotIndex);
        }
        if (snapshotIndex > 0) {
            try (InputStream in = storage.openSnapshotData(maxSnapshotBytes)) {
                machine.restore(in);
            }
            LOG.info("store {} group {}: state machine restored from snapshot at {}", storeId, groupId, snapshotIndex);
        }
        return machine;
    }

    private PersistentKvEngine openEngine(long groupId) throws IOException {
        Path directory = root.resolve("group-" + groupId);
        Files.createDirectories(directory);
        PersistentKvEngine engine = switch (config.kind()) {
            // One memtable may take a quarter of the store's budget: a busy group gets large ones
            // while the others are idle, and the shared budget flushes the largest when all pass it.
            case ROCKSDB -> RocksDbKvEngine.open(RocksDbOptions.defaults(directory)
                    .withWriteBufferBytes(Math.max(1L << 20, config.rocksdbWriteBufferBytes() / 4)), rocksDbMemory);
            case BTREE -> MvStoreKvEngine.open(new MvStoreOptions(directory.resolve("btree.mv.db"),
                    Math.max(1, config.btreeCacheMegabytes() / groupsSharing), false, false,
                    MvStoreOptions.DEFAULT_COMPACT_EVERY_COMMITS));
            case BITCASK -> BitcaskKvEngine.open(BitcaskOptions.defaults(directory).withMaxFileSizeBytes(config.bitcaskFileBytes()),
                    false);
            case MEMORY -> throw new IllegalStateException("unreachable: the memory engine is not persistent");
        };
        PersistentKvEngine previous = open.put(groupId, engine);
        if (previous != null) {
            previous.close();
            LOG.warn("store {} group {}: its engine was opened twice; closed the first", storeId, groupId);
        }
        return engine;
    }

    private void close(long groupId) {
        PersistentKvEngine engine = open.remove(groupId);
        if (engine != null) {
            engine.close();
        }
    }

    /** Closes group {@code groupId}'s engine and deletes its directory (the replica left this store; its apply is retired). */
    void drop(long groupId) throws IOException {
        close(groupId);
        Path directory = root.resolve("group-" + groupId);
        if (Files.exists(directory)) {
            try (var paths = Files.walk(directory)) {
                for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    /** Closes every engine, then the memory they shared; call after the apply workers stopped. */
    @Override
    public void close() {
        List<Long> groups = new ArrayList<>(open.keySet());
        for (long group : groups) {
            try {
                close(group);
            } catch (RuntimeException e) {
                LOG.warn("store {} group {}: closing its engine: {}", storeId, group, e.toString());
            }
        }
        if (rocksDbMemory != null) {
            rocksDbMemory.close();
        }
    }
}
