package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl config add-group G} without stores on 4 in-process stores whose 2 data groups have 2
 * replicas each (group 1 on stores 1 and 2, group 2 on 2 and 3): each new group lands on the live
 * stores holding the fewest replicas, forms there and takes its slots; asking for more replicas
 * than there are live stores, or for a group that exists, is refused with a clear message and
 * makes no configuration; a stopped store is not chosen.
 */
class ReplicaPlacementCommandTest {

    @TempDir
    Path dir;

    @Test
    void groupsAddedWithoutStoresLandOnTheLeastLoadedLiveStores() throws Exception {
        ch.qos.logback.classic.Level quiet = QuietStoreLogs.raise();
        List<Store> stores = new ArrayList<>();
        try {
            Path conf = startCluster(stores, 2);
            awaitReports(conf, 4);
            // Loads: store 1 holds 1 replica, store 2 two, store 3 one, store 4 none.
            CliRun added = ctl(conf, "config", "add-group", "3");
            assertEquals(0, added.exitCode(), added.err() + added.out());
            assertTrue(added.out().contains("placing group 3 on stores [1, 3, 4]"), added.out());
            assertEquals(0, ctl(conf, "config", "wait", "--wait-seconds", "30").exitCode());
            CliRun config = ctl(conf, "config", "get", "--json");
            assertTrue(config.out().contains("\"stores\":[1,3,4]"), config.out());
            // Now 2, 2, 2, 1: store 4 and then the lower ids.
            CliRun second = ctl(conf, "config", "add-group", "4", "--replicas", "2");
            assertEquals(0, second.exitCode(), second.err() + second.out());
            assertTrue(second.out().contains("placing group 4 on stores [1, 4]"), second.out());
            assertEquals(0, ctl(conf, "config", "wait", "--wait-seconds", "30").exitCode());
            assertTrue(stores.get(3).groups().containsAll(List.of(3L, 4L)), "store 4 hosts " + stores.get(3).groups());
            assertEquals(0, ctl(conf, "put", "placed", "yes").exitCode());
            assertEquals("yes", ctl(conf, "get", "placed").out().trim());

            CliRun tooMany = ctl(conf, "config", "add-group", "5", "--replicas", "5");
            assertEquals(2, tooMany.exitCode(), tooMany.out());
            assertTrue(tooMany.err().contains("5 replicas need 5 live stores") && tooMany.err().contains("only 4 are live"),
                    tooMany.err());
            CliRun exists = ctl(conf, "config", "add-group", "3");
            assertEquals(1, exists.exitCode(), exists.out());
            assertTrue(exists.err().contains("group 3 is already in configuration 3"), exists.err());
            CliRun sameStoreTwice = ctl(conf, "config", "add-group", "5", "1", "1");
            assertEquals(1, sameStoreTwice.exitCode(), sameStoreTwice.out());
            assertTrue(sameStoreTwice.err().contains("store ids must be positive and distinct"), sameStoreTwice.err());
            CliRun both = ctl(conf, "config", "add-group", "5", "1", "--replicas", "1");
            assertEquals(2, both.exitCode(), both.out());
            assertTrue(both.err().contains("not both"), both.err());

            stores.get(3).close(); // Store 4: its reports stop, and it is no longer chosen.
            Thread.sleep(StorePlacement.LIVE_REPORT_AGE_MILLIS + 2_500);
            CliRun withoutFour = ctl(conf, "config", "add-group", "5", "--replicas", "4");
            assertEquals(2, withoutFour.exitCode(), withoutFour.out());
            assertTrue(withoutFour.err().contains("only 3 are live [1, 2, 3]") && withoutFour.err().contains("store 4 last reported"),
                    withoutFour.err());
            CliRun json = ctl(conf, "config", "get", "--json");
            assertTrue(json.out().contains("\"number\":3"), json.out());
        } finally {
            stores.forEach(Store::close);
            QuietStoreLogs.restore(quiet);
        }
    }

    /**
     * {@code config move-replica} and {@code config remove-store} on 4 stores whose 2 groups have 3
     * replicas (group 1 on stores 1-3, group 2 on 2-4): the moves finish (config wait), every key
     * keeps its value, bad moves are refused with their reason, and a store that cannot be drained
     * without two replicas of a group on one store is refused before anything moves.
     */
    @Test
    void moveReplicasAndDrainAStore() throws Exception {
        ch.qos.logback.classic.Level quiet = QuietStoreLogs.raise();
        List<Store> stores = new ArrayList<>();
        try {
            Path conf = startCluster(stores, 3);
            for (int i = 0; i < 40; i++) {
                assertEquals(0, ctl(conf, "put", "key" + i, "value" + i).exitCode());
            }
            CliRun moved = ctl(conf, "config", "move-replica", "1", "1", "4");
            assertEquals(0, moved.exitCode(), moved.err() + moved.out());
            CliRun waited = ctl(conf, "config", "wait", "--wait-seconds", "30");
            assertEquals(0, waited.exitCode(), waited.err() + waited.out());
            assertTrue(waited.out().contains("moves no slot or replica"), waited.out());
            assertTrue(ctl(conf, "config", "get", "--json").out().contains("\"stores\":[4,2,3]"));
            assertTrue(stores.get(3).groups().contains(1L) && !stores.get(0).groups().contains(1L),
                    "store 4 hosts " + stores.get(3).groups() + ", store 1 " + stores.get(0).groups());

            CliRun twice = ctl(conf, "config", "move-replica", "1", "2", "3");
            assertEquals(1, twice.exitCode(), twice.out());
            assertTrue(twice.err().contains("store 3 already hosts a replica of group 1"), twice.err());
            CliRun unknownGroup = ctl(conf, "config", "move-replica", "9", "1", "4");
            assertEquals(1, unknownGroup.exitCode(), unknownGroup.out());
            assertTrue(unknownGroup.err().contains("group 9 is not in configuration"), unknownGroup.err());
            CliRun unknownStore = ctl(conf, "config", "move-replica", "1", "2", "9");
            assertEquals(2, unknownStore.exitCode(), unknownStore.out());
            assertTrue(unknownStore.err().contains("store 9 is not a member"), unknownStore.err());
            assertEquals(2, ctl(conf, "config", "move-replica", "1", "2").exitCode());

            // Store 2 hosts groups 1 {4,2,3} and 2 {2,3,4}: both go to store 1, the only one hosting
            // neither; then its replica of the controller (on stores 1-3) goes to store 4.
            CliRun drained = ctl(conf, "config", "remove-store", "2");
            assertEquals(0, drained.exitCode(), drained.err() + drained.out());
            assertTrue(drained.out().contains("moving group 1's replica from store 2 to store 1")
                    && drained.out().contains("moving group 2's replica from store 2 to store 1")
                    && drained.out().contains("moving group 0's replica from store 2 to store 4")
                    && drained.out().contains("store 2 hosts no replica now (3 moved)")
                    && drained.out().contains("store 2 is one of the stores the cluster was created with: it stays a member"),
                    drained.out());
            assertEquals(List.of(), stores.get(1).groups(), "store 2 hosts groups");
            assertTrue(ctl(conf, "config", "get", "--json").out().contains("\"controller_stores\":[1,4,3]"));
            assertTrue(ctl(conf, "config", "get").out().contains("shard controller (group 0): stores 1,3-4"));

            // Group 3 on every store: no store could take its replica, so nothing moves at all.
            assertEquals(0, ctl(conf, "config", "add-group", "3", "1", "2", "3", "4").exitCode());
            assertEquals(0, ctl(conf, "config", "wait", "--wait-seconds", "30").exitCode());
            String before = ctl(conf, "config", "get", "--json").out();
            // The controller may have a new leader since its replica moved, which holds reports only
            // from the stores that reported to it since.
            awaitReports(conf, 4);
            CliRun full = ctl(conf, "config", "remove-store", "1");
            assertEquals(2, full.exitCode(), full.out());
            assertTrue(full.err().contains("no live store can take group 3's replica from store 1"), full.err());
            assertEquals(before, ctl(conf, "config", "get", "--json").out());
            for (int i = 0; i < 40; i++) {
                assertEquals("value" + i, ctl(conf, "get", "key" + i).out().trim(), "key" + i);
            }
        } finally {
            stores.forEach(Store::close);
            QuietStoreLogs.restore(quiet);
        }
    }

    /** Until the controller's leader holds a fresh report from {@code count} stores. */
    static void awaitReports(Path conf, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            CliRun reports = ctl(conf, "config", "stores", "--json");
            last = reports.out();
            if (reports.exitCode() == 0 && last.lines().filter(l -> l.startsWith("{\"store\"")).count() == count) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the controller did not get " + count + " reports: " + last);
    }

    private Path startCluster(List<Store> stores, int replicasPerGroup) throws Exception {
        List<MemberAddress> members = new ArrayList<>();
        for (long id = 1; id <= 4; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        for (MemberAddress m : members) {
            Path file = Files.writeString(conf.resolve("store" + m.id() + ".properties"), String.join("\n",
                    "node-id=" + m.id(), "cluster-id=ctl-placement-test",
                    "client-address=" + MemberAddress.format(m.clientAddress()),
                    "peer-address=" + MemberAddress.format(m.peerAddress()),
                    "data-dir=" + dir.resolve("data" + m.id()), "members=" + memberList,
                    "data-groups=2", "replicas-per-group=" + replicasPerGroup, "tick-interval-ms=20", ""));
            stores.add(Store.start(NodeConfigLoader.load(file, Map.of())));
        }
        return conf;
    }

    private static CliRun ctl(Path conf, String... args) {
        List<String> all = new ArrayList<>(List.of("ctl", "--cluster", conf.toString()));
        all.addAll(List.of(args));
        return CliRun.loomkv(all.toArray(String[]::new));
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }
}
