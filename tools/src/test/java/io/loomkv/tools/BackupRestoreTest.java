package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore end to end: a loaded in-process sharded cluster (3 stores, 4 data groups, the
 * bitcask engine) is backed up with {@code ctl snapshot save} while a writer keeps writing,
 * {@code snapshot status} reads the file, {@code snapshot restore} makes a new cluster's data
 * directories (on the memory engine), and that cluster, started, serves every key and the
 * controller's configuration. Damaged files and non-empty or same-cluster targets are refused and create nothing.
 */
class BackupRestoreTest {
    private static final int GROUPS = 4;
    private static final int KEYS = 300;

    @TempDir
    static Path dir;
    static final List<Store> stores = new ArrayList<>();
    static Path confFolder;
    static Path backup;
    private static ch.qos.logback.classic.Level quietLevel;

    @BeforeAll
    static void startLoadAndSave() throws Exception {
        quietLevel = QuietStoreLogs.raise();
        confFolder = writeCluster(dir.resolve("conf"), "backup-test", dir.resolve("data"));
        List<InetSocketAddress> clients = new ArrayList<>();
        for (Path file : configFiles(confFolder)) {
            Store store = Store.start(NodeConfigLoader.load(file, Map.of()));
            stores.add(store);
        }
        awaitLeaders(stores);
        try (ClusterClient config = new ClusterClient(confFolder)) {
            for (int i = 0; i < KEYS; i++) {
                assertFalse(config.client.put("key-" + i, valueOf(i)), "key-" + i + " is new");
            }
        }
        backup = dir.resolve("cluster.backup");
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong written = new AtomicLong();
        Thread writer = Thread.ofVirtual().start(() -> {
            try (ClusterClient config = new ClusterClient(confFolder)) {
                while (writing.get()) {
                    config.client.put("during-" + written.get(), "x");
                    written.incrementAndGet();
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        CliRun save;
        try {
            save = CliRun.loomkv("ctl", "--cluster", confFolder.toString(), "snapshot", "save", backup.toString());
        } finally {
            writing.set(false);
            writer.join();
        }
        assertEquals(0, save.exitCode(), save.err());
        assertTrue(save.out().contains("Snapshot saved at " + backup + " (5 groups, "), save.out());
        assertTrue(written.get() > 0, "writes went on during the backup");
        assertFalse(Files.exists(dir.resolve("cluster.backup.part")));
    }

    @AfterAll
    static void stop() {
        stores.forEach(Store::close);
        QuietStoreLogs.restore(quietLevel);
    }

    @Test
    void restoredClusterServesEveryKeyAndTheControllerConfiguration() throws Exception {
        // The restored cluster keeps its data in memory: a restore seeds any engine from the snapshots.
        Path conf = writeCluster(dir.resolve("restored-conf"), "restored", dir.resolve("restored"), "memory");
        CliRun restore = CliRun.loomkv("snapshot", "restore", backup.toString(), "--config-dir", conf.toString());
        assertEquals(0, restore.exitCode(), restore.err());
        assertTrue(restore.out().contains("as new cluster 'restored' (3 stores)"), restore.out());

        List<Store> restored = new ArrayList<>();
        try {
            for (Path file : configFiles(conf)) {
                restored.add(Store.start(NodeConfigLoader.load(file, Map.of())));
            }
            awaitLeaders(restored);
            try (ClusterClient cluster = new ClusterClient(conf)) {
                for (int i = 0; i < KEYS; i++) {
                    assertEquals(Optional.of(valueOf(i)), cluster.client.get("key-" + i), "key-" + i);
                }
                ControllerReply config = cluster.client.config(-1);
                assertTrue(config.getError().isEmpty(), config.getError());
                assertEquals(GROUPS, config.getConfig().getGroupsCount(), config.toString());
                cluster.client.put("after-restore", "new");
                assertEquals(Optional.of("new"), cluster.client.get("after-restore"), "the restored cluster takes writes");
            }
        } finally {
            restored.forEach(Store::close);
        }
    }

    @Test
    void statusListsEveryGroupWithItsKeys() {
        CliRun table = CliRun.loomkv("snapshot", "status", backup.toString());
        assertEquals(0, table.exitCode(), table.err());
        assertTrue(table.lines().get(0).contains("checksum OK"), table.out());
        assertTrue(table.lines().get(1).startsWith("cluster 'backup-test', created "), table.out());
        assertTrue(table.lines().get(1).contains("4 data groups"), table.out());
        assertTrue(table.lines().get(2).startsWith("GROUP  APPLIED"), table.out());
        assertEquals(3 + 1 + GROUPS, table.lines().size(), table.out());
        long keys = 0;
        for (int line = 3; line < table.lines().size(); line++) {
            String[] columns = table.lines().get(line).trim().split("\\s+");
            assertEquals(Long.toString(line - 3), columns[0], table.out());
            assertTrue(Long.parseLong(columns[1]) > 0, table.out());
            keys += Long.parseLong(columns[2]);
        }
        assertTrue(keys >= KEYS, "at least the keys written before the backup: " + table.out());

        CliRun json = CliRun.loomkv("snapshot", "status", "-w", "json", backup.toString());
        assertEquals(0, json.exitCode(), json.err());
        assertEquals(1, json.lines().size(), json.out());
        assertTrue(json.out().contains("\"checksum_ok\":true"), json.out());
        assertTrue(json.out().contains("\"cluster_id\":\"backup-test\""), json.out());
        assertTrue(json.out().contains("\"data_groups\":4,\"controller_stores\":[1,2,3]"), json.out());
        for (int group = 0; group <= GROUPS; group++) {
            assertTrue(json.out().contains("{\"group\":" + group + ",\"applied_index\":"), json.out());
        }
    }

    @Test
    void damagedBackupsAreRefusedAndCreateNothing() throws Exception {
        byte[] whole = Files.readAllBytes(backup);
        byte[] flipped = whole.clone();
        flipped[whole.length / 2] ^= 0x01;
        byte[] wrongMagic = whole.clone();
        wrongMagic[0] = 'X';
        Map<String, byte[]> damaged = Map.of(
                "checksum mismatch", flipped,
                "no trailer", java.util.Arrays.copyOf(whole, whole.length - 100),
                "wrong magic", wrongMagic);
        int n = 0;
        for (Map.Entry<String, byte[]> damage : damaged.entrySet()) {
            Path file = Files.write(dir.resolve("damaged-" + n), damage.getValue());
            CliRun status = CliRun.loomkv("snapshot", "status", file.toString());
            assertEquals(1, status.exitCode(), status.out());
            assertTrue(status.err().contains("is damaged: " + damage.getKey()), status.err());

            Path target = dir.resolve("damaged-target-" + n);
            Path conf = writeCluster(dir.resolve("damaged-conf-" + n), "restored", target);
            CliRun restore = CliRun.loomkv("snapshot", "restore", file.toString(), "--config-dir", conf.toString());
            assertEquals(1, restore.exitCode(), restore.out());
            assertTrue(restore.err().contains(damage.getKey()) && restore.err().contains("nothing was created"), restore.err());
            assertFalse(Files.exists(target), "nothing created for " + damage.getKey());
            n++;
        }
    }

    @Test
    void restoreRefusesANonEmptyDataDirectoryOrTheSameClusterId() throws Exception {
        Path target = dir.resolve("busy");
        Path conf = writeCluster(dir.resolve("busy-conf"), "restored", target);
        Path leftover = Files.writeString(Files.createDirectories(target.resolve("data2")).resolve("something"), "x");
        CliRun busy = CliRun.loomkv("snapshot", "restore", backup.toString(), "--config-dir", conf.toString());
        assertEquals(2, busy.exitCode(), busy.out());
        assertTrue(busy.err().contains("is not empty"), busy.err());
        assertFalse(Files.exists(target.resolve("data1")), "no store's directory was created");
        assertEquals(List.of(leftover), Files.list(target.resolve("data2")).toList());

        Path sameTarget = dir.resolve("same");
        Path sameConf = writeCluster(dir.resolve("same-conf"), "backup-test", sameTarget);
        CliRun same = CliRun.loomkv("snapshot", "restore", backup.toString(), "--config-dir", sameConf.toString());
        assertEquals(2, same.exitCode(), same.out());
        assertTrue(same.err().contains("needs a new cluster-id"), same.err());
        assertFalse(Files.exists(sameTarget));
    }

    /** A client of the cluster a config folder describes. */
    private static final class ClusterClient implements AutoCloseable {
        final KvClient client;

        ClusterClient(Path conf) throws IOException {
            ClusterTarget target;
            try {
                target = ClusterTarget.fromFolder(conf);
            } catch (io.loomkv.net.node.NodeConfigException e) {
                throw new IOException(e);
            }
            client = new KvClient(KvClientConfig.of(target.clientAddresses(), target.clusterId()));
        }

        @Override
        public void close() {
            client.close();
        }
    }

    private static String valueOf(int i) {
        return "value-" + i + "-" + "v".repeat(i % 50);
    }

    private static Path writeCluster(Path folder, String clusterId, Path data) throws IOException {
        return writeCluster(folder, clusterId, data, "bitcask");
    }

    private static Path writeCluster(Path folder, String clusterId, Path data, String engine) throws IOException {
        Files.createDirectories(folder);
        List<MemberAddress> members = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        for (MemberAddress m : members) {
            Files.writeString(folder.resolve("store" + m.id() + ".properties"), String.join("\n",
                    "node-id=" + m.id(), "cluster-id=" + clusterId,
                    "client-address=" + MemberAddress.format(m.clientAddress()),
                    "peer-address=" + MemberAddress.format(m.peerAddress()),
                    "data-dir=" + data.resolve("data" + m.id()), "members=" + memberList,
                    "data-groups=" + GROUPS, "engine=" + engine, "tick-interval-ms=20", ""));
        }
        return folder;
    }

    private static List<Path> configFiles(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.filter(f -> f.toString().endsWith(".properties")).sorted().toList();
        }
    }

    private static void awaitLeaders(List<Store> cluster) throws InterruptedException {
        awaitTrue("every group has a leader", () -> {
            for (long group = 0; group <= GROUPS; group++) {
                long g = group;
                if (cluster.stream().noneMatch(s -> s.isLeader(g))) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
