package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl config add-group|remove-group|move|wait} on an in-process cluster of 3 stores that
 * starts with one data group: a user adds a group, waits for the slots to move, moves a slot by
 * hand, removes the first group, and every key keeps its value throughout (the README's walk).
 */
class ConfigChangeCommandTest {

    @TempDir
    Path dir;

    @Test
    void addMoveAndRemoveGroupsWithoutLosingAKey() throws Exception {
        ch.qos.logback.classic.Level quiet = QuietStoreLogs.raise();
        List<Store> stores = new ArrayList<>();
        try {
            Path conf = startCluster(stores);
            for (int i = 0; i < 50; i++) {
                assertEquals(0, ctl(conf, "put", "key" + i, "value" + i).exitCode());
            }
            CliRun usage = ctl(conf, "config", "add-group");
            assertEquals(2, usage.exitCode(), usage.err());
            assertTrue(usage.err().contains("stores to host it"), usage.err());
            CliRun unknownStore = ctl(conf, "config", "add-group", "2", "1", "2", "9");
            assertEquals(2, unknownStore.exitCode(), unknownStore.out());
            assertTrue(unknownStore.err().contains("store 9 is not a member"), unknownStore.err());

            CliRun added = ctl(conf, "config", "add-group", "2", "1", "2", "3");
            assertEquals(0, added.exitCode(), added.err());
            assertTrue(added.out().contains("configuration 2"), added.out());
            CliRun waited = ctl(conf, "config", "wait");
            assertEquals(0, waited.exitCode(), waited.err() + waited.out());
            assertTrue(waited.out().contains("settled"), waited.out());
            CliRun config = ctl(conf, "config", "get");
            assertTrue(config.out().contains("0-8191") && config.out().contains("8192-16383"), config.out());

            CliRun moved = ctl(conf, "config", "move", "100-199", "2");
            assertEquals(0, moved.exitCode(), moved.err());
            assertEquals(0, ctl(conf, "config", "wait").exitCode());
            CliRun badRange = ctl(conf, "config", "move", "300-200", "2");
            assertEquals(2, badRange.exitCode(), badRange.err());

            CliRun removed = ctl(conf, "config", "remove-group", "1");
            assertEquals(0, removed.exitCode(), removed.err());
            assertEquals(0, ctl(conf, "config", "wait").exitCode());
            CliRun json = ctl(conf, "config", "get", "--json");
            assertTrue(json.out().contains("\"number\":4") && json.out().contains("\"slots\":\"0-16383\""), json.out());
            for (int i = 0; i < 50; i++) {
                CliRun get = ctl(conf, "get", "key" + i);
                assertEquals(0, get.exitCode(), get.err());
                assertEquals("value" + i, get.out().trim());
            }
        } finally {
            stores.forEach(Store::close);
            QuietStoreLogs.restore(quiet);
        }
    }

    /**
     * {@code ctl config add-store}: bad input is refused before anything is sent (exit 2), a new
     * store is listed with its addresses in the next configuration, and adding it again is refused.
     */
    @Test
    void addStoreListsTheNewStoreAndRefusesBadInput() throws Exception {
        ch.qos.logback.classic.Level quiet = QuietStoreLogs.raise();
        List<Store> stores = new ArrayList<>();
        try {
            Path conf = startCluster(stores);
            CliRun usage = ctl(conf, "config", "add-store", "4");
            assertEquals(2, usage.exitCode(), usage.err());
            assertTrue(usage.err().contains("add-store S CLIENT_HOST:PORT PEER_HOST:PORT"), usage.err());
            CliRun noPort = ctl(conf, "config", "add-store", "4", "127.0.0.1", "127.0.0.1:1");
            assertEquals(2, noPort.exitCode(), noPort.err());
            assertTrue(noPort.err().contains("'127.0.0.1' is not host:port"), noPort.err());
            CliRun member = ctl(conf, "config", "add-store", "2", "127.0.0.1:1", "127.0.0.1:2");
            assertEquals(2, member.exitCode(), member.err());
            assertTrue(member.err().contains("store 2 is already a member"), member.err());

            CliRun added = ctl(conf, "config", "add-store", "4", "127.0.0.1:17404", "127.0.0.1:17504");
            assertEquals(0, added.exitCode(), added.err());
            assertTrue(added.out().contains("configuration 2"), added.out());
            CliRun config = ctl(conf, "config", "get");
            assertTrue(config.out().contains("added store 4: client 127.0.0.1:17404, peer 127.0.0.1:17504"), config.out());
            CliRun json = ctl(conf, "config", "get", "--json");
            assertTrue(json.out().contains("\"added_stores\":[{\"store\":4,\"client_address\":\"127.0.0.1:17404\""), json.out());
            CliRun again = ctl(conf, "config", "add-store", "4", "127.0.0.1:17404", "127.0.0.1:17504");
            assertTrue(again.exitCode() != 0, again.out());
            assertTrue((again.err() + again.out()).contains("store 4 is already a member")
                    || (again.err() + again.out()).contains("store 4 was added already"), again.err() + again.out());
        } finally {
            stores.forEach(Store::close);
            QuietStoreLogs.restore(quiet);
        }
    }

    private Path startCluster(List<Store> stores) throws Exception {
        List<MemberAddress> members = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        for (MemberAddress m : members) {
            Path file = Files.writeString(conf.resolve("store" + m.id() + ".properties"), String.join("\n",
                    "node-id=" + m.id(), "cluster-id=ctl-config-change-test",
                    "client-address=" + MemberAddress.format(m.clientAddress()),
                    "peer-address=" + MemberAddress.format(m.peerAddress()),
                    "data-dir=" + dir.resolve("data" + m.id()), "members=" + memberList,
                    "data-groups=1", "tick-interval-ms=20", ""));
            stores.add(Store.start(NodeConfigLoader.load(file, Map.of())));
        }
        return conf;
    }

    private static CliRun ctl(Path conf, String... args) {
        List<String> all = new ArrayList<>(List.of("ctl", "--cluster", conf.toString()));
        all.addAll(List.of(args));
        return CliRun.loomkv(all.toArray(String[]::new));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
