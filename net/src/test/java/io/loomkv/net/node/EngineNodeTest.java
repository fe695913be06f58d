package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.client.KvClient;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The storage engine under a real store: a persistent engine restarts from its own state and the
 * state machine applies only the log after it (the memory engine, for contrast, applies the whole
 * log again); a data directory refuses to start with another engine than its own.
 */
class EngineNodeTest {
    private static final int GROUPS = 2;
    private static final int WRITES = 120;
    /** The new leader's empty entry, plus slack for a configuration entry; far below {@link #WRITES}. */
    private static final long TAIL_ENTRIES_MAX = 5;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = EngineKind.class, names = {"MEMORY", "ROCKSDB", "BTREE", "BITCASK"})
    void restartKeepsTheDataAndReplaysOnlyTheLogAfterTheEngine(EngineKind engine) throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 1, KvLabScenariosTest.NO_SNAPSHOTS, GROUPS).withEngine(engine).startAll()) {
            cluster.awaitLeaders();
            List<String> keys = cluster.groups().stream().map(g -> cluster.keyIn(g, "counter")).toList();
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < WRITES; i++) {
                    client.put("key-" + i, "value-" + i);
                    client.append(com.google.protobuf.ByteString.copyFromUtf8(keys.get(i % GROUPS)),
                            com.google.protobuf.ByteString.copyFromUtf8(i + ","));
                }
            }
            cluster.stop(1);
            Store restarted = cluster.start(1);
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < WRITES; i++) {
                    assertEquals("value-" + i, client.get("key-" + i).orElseThrow(), "key-" + i + " after the restart");
                }
                for (int g = 0; g < GROUPS; g++) {
                    StringBuilder expected = new StringBuilder();
                    for (int i = g; i < WRITES; i += GROUPS) {
                        expected.append(i).append(',');
                    }
                    assertEquals(expected.toString(), client.get(keys.get(g)).orElseThrow(), "appends of group " + (g + 1)
                            + " each applied exactly once");
                }
            }
            for (long group : cluster.groups()) {
                long applied = restarted.entriesAppliedSinceStart(group);
                if (engine == EngineKind.MEMORY) {
                    assertTrue(applied >= WRITES, "the memory engine replays the whole log: group " + group + " applied " + applied);
                } else {
                    assertTrue(applied <= TAIL_ENTRIES_MAX, engine + " replays only the log after its applied index: group "
                            + group + " applied " + applied + " entries after the restart");
                }
            }
        }
    }

    @Test
    void aDataDirectoryRefusesToStartWithAnotherEngine() throws Exception {
        LocalCluster cluster = new LocalCluster(dir, 1, KvLabScenariosTest.NO_SNAPSHOTS, 1).withEngine(EngineKind.ROCKSDB);
        try (cluster) {
            cluster.startAll().awaitLeaders();
            try (KvClient client = cluster.client()) {
                client.put("k", "v");
            }
            cluster.stop(1);
            NodeConfig rocksdb = cluster.config(1, false);
            Path wal = rocksdb.dataDirectory().resolve("raft").resolve("wal");
            byte[] walBefore = Files.readAllBytes(Files.list(wal).sorted().findFirst().orElseThrow());
            for (EngineKind other : List.of(EngineKind.MEMORY, EngineKind.BTREE)) {
                DataDirectoryMismatchException refused = assertThrows(DataDirectoryMismatchException.class,
                        () -> Store.start(rocksdb.withEngine(EngineConfig.defaults(other))));
                assertTrue(refused.getMessage().contains("keeps its state in the rocksdb engine, but this node is configured with engine="
                        + other.configName()), refused.getMessage());
            }
            byte[] walAfter = Files.readAllBytes(Files.list(wal).sorted().findFirst().orElseThrow());
            assertTrue(Arrays.equals(walBefore, walAfter), "a refused start must not touch the WAL");
            cluster.start(1);
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                assertEquals("v", client.get("k").orElseThrow());
            }
        }
    }
}
