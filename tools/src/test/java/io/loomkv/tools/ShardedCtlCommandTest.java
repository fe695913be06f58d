package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.Slots;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against an in-process sharded cluster: 3 stores, 4 data groups (slots 0-4095, 4096-8191,
 * ... each on all three stores), described by a config folder as conf/sharded-3node is.
 */
class ShardedCtlCommandTest {
    private static final int GROUPS = 4;
    private static final int SLOTS_PER_GROUP = Slots.SLOT_COUNT / GROUPS;

    @TempDir
    static Path dir;
    static final List<Store> stores = new ArrayList<>();
    static List<MemberAddress> members;
    static Path confFolder;

    private static ch.qos.logback.classic.Level quietLevel;

    @BeforeAll
    static void startCluster() throws Exception {
        quietLevel = QuietStoreLogs.raise();
        members = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        confFolder = Files.createDirectories(dir.resolve("conf"));
        for (MemberAddress m : members) {
            Path file = writeConfig(confFolder.resolve("store" + m.id() + ".properties"), m, false);
            stores.add(Store.start(NodeConfigLoader.load(file, Map.of())));
        }
        awaitTrue("every group has a leader", () -> {
            for (long group = 1; group <= GROUPS; group++) {
                long g = group;
                if (stores.stream().noneMatch(s -> s.isLeader(g))) {
                    return false;
                }
            }
            return true;
        });
    }

    private static Path writeConfig(Path file, MemberAddress self, boolean join) throws IOException {
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        return Files.writeString(file, String.join("\n",
                "node-id=" + self.id(), "cluster-id=ctl-sharded-test",
                "client-address=" + MemberAddress.format(self.clientAddress()),
                "peer-address=" + MemberAddress.format(self.peerAddress()),
                "data-dir=" + dir.resolve("data" + self.id()), "members=" + memberList, "join=" + join,
                "data-groups=" + GROUPS, "tick-interval-ms=20", ""));
    }

    @AfterAll
    static void stopCluster() {
        stores.forEach(Store::close);
        QuietStoreLogs.restore(quietLevel);
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

    private static CliRun ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("ctl", "--cluster", confFolder.toString()));
        all.addAll(List.of(args));
        return CliRun.loomkv(all.toArray(String[]::new));
    }

    private static String expectedSlots(long group) {
        return (group - 1) * SLOTS_PER_GROUP + "-" + (group * SLOTS_PER_GROUP - 1);
    }

    private static long leaderOf(long group) {
        return stores.stream().filter(s -> s.isLeader(group)).mapToLong(Store::storeId).findFirst().orElse(0);
    }

    @Test
    void groupsListsEveryGroupWithItsSlotsReplicasAndLeader() {
        CliRun text = ctl("groups");
        assertEquals(0, text.exitCode(), text.err());
        List<String> lines = text.lines();
        assertEquals(GROUPS + 2, lines.size(), text.out());
        assertTrue(lines.get(0).startsWith("GROUP  SLOTS"), text.out());
        for (long group = 1; group <= GROUPS; group++) {
            String[] columns = lines.get((int) group).split("\\s+");
            assertEquals(List.of(Long.toString(group), expectedSlots(group), "1,2,3"), Arrays.asList(columns).subList(0, 3), text.out());
        }
        assertTrue(lines.get(GROUPS + 1).contains("(4 groups on 3 stores, 3 answered; every group has a leader)"), text.out());

        CliRun json = ctl("--json", "groups");
        assertEquals(0, json.exitCode(), json.err());
        assertEquals(GROUPS, json.lines().size(), json.out());
        for (long group = 1; group <= GROUPS; group++) {
            String line = json.lines().get((int) group - 1);
            assertTrue(line.startsWith("{\"group\":" + group + ",\"slots\":\"" + expectedSlots(group)
                    + "\",\"replicas\":[1,2,3],\"learners\":[],\"leader\":"), line);
            assertTrue(!line.contains("\"leader\":0,"), "every group has a leader: " + line);
        }
    }

    /** Group 0, the shard controller, is on all three stores too: its lines come first. */
    @Test
    void statusHasOneLinePerStoreAndGroup() throws Exception {
        CliRun text = ctl("status");
        assertEquals(0, text.exitCode(), text.err());
        assertEquals(1 + 3 * (GROUPS + 1), text.lines().size(), text.out());
        assertEquals(List.of("ADDRESS", "STORE", "GROUP", "ROLE", "TERM", "COMMIT", "APPLIED", "LEADER", "QUIET"),
                Arrays.asList(text.lines().get(0).trim().split("\\s+")));
        String firstStore = MemberAddress.format(members.get(0).clientAddress());
        assertTrue(text.lines().get(1).matches(firstStore.replace(".", "\\.") + "\\s+1\\s+0\\s+[A-Z_]+\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s+(yes|no)"),
                text.lines().get(1));
        assertTrue(text.lines().get(2).matches(firstStore.replace(".", "\\.") + "\\s+1\\s+1\\s+[A-Z_]+\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s+(yes|no)"),
                text.lines().get(2));

        // Leadership may move (the balancer, another test's transfer): look until one view has a leader per group.
        awaitTrue("one LEADER line per group in ctl --json status", () -> {
            CliRun json = ctl("--json", "status");
            if (json.exitCode() != 0 || json.lines().size() != 3 * (GROUPS + 1)) {
                return false;
            }
            for (long group = 0; group <= GROUPS; group++) {
                String tag = "\"group\":" + group + ",\"role\":\"LEADER\"";
                if (json.lines().stream().filter(l -> l.contains(tag)).count() != 1) {
                    return false;
                }
            }
            return json.lines().stream().allMatch(l -> l.contains("\"term\":") && l.contains("\"quiet\":"));
        });
    }

    /** mput and mget over keys of every group, in the order given; a missing key is reported and makes the exit code 1. */
    @Test
    void mputAndMgetSpanEveryGroup() {
        List<String> keys = new ArrayList<>();
        List<String> pairs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            keys.add("multi/" + i);
            pairs.add("multi/" + i);
            pairs.add("v" + i);
        }
        long groups = keys.stream().map(k -> Slots.slotOf(com.google.protobuf.ByteString.copyFromUtf8(k)) / SLOTS_PER_GROUP).distinct().count();
        assertTrue(groups > 1, "the keys should span groups");
        CliRun put = ctl(java.util.stream.Stream.concat(java.util.stream.Stream.of("mput"), pairs.stream()).toArray(String[]::new));
        assertEquals(0, put.exitCode(), put.err());
        assertEquals("OK (40 keys)", put.out().strip());
        List<String> asked = new ArrayList<>(keys);
        asked.add(1, "multi/absent");
        CliRun get = ctl(java.util.stream.Stream.concat(java.util.stream.Stream.of("mget"), asked.stream()).toArray(String[]::new));
        assertEquals(1, get.exitCode(), "one key is missing");
        List<String> lines = get.lines();
        assertEquals(41, lines.size(), get.out());
        assertEquals("multi/0 = v0", lines.get(0));
        assertEquals("multi/absent = (not found)", lines.get(1));
        assertEquals("multi/39 = v39", lines.get(40));
        CliRun json = ctl("--json", "mget", "multi/7");
        assertEquals("{\"key\":\"multi/7\",\"found\":true,\"value\":\"v7\"}", json.out().strip());
        CliRun odd = ctl("mput", "a", "1", "b");
        assertEquals(2, odd.exitCode());
        assertTrue(odd.err().contains("odd number"), odd.err());
        CliRun twice = ctl("mput", "a", "1", "a", "2");
        assertEquals(2, twice.exitCode());
        assertTrue(twice.err().contains("appears twice"), twice.err());
    }

    @Test
    void slotNamesTheKeysSlotGroupAndLeader() {
        for (String key : List.of("hello", "user:{42}:name", "user:{42}:email")) {
            int slot = Slots.slotOf(com.google.protobuf.ByteString.copyFromUtf8(key));
            long group = slot / SLOTS_PER_GROUP + 1;
            CliRun text = ctl("slot", key);
            assertEquals(0, text.exitCode(), text.err());
            assertTrue(text.out().startsWith(key + ": slot " + slot + ", group " + group + " (slots " + expectedSlots(group) + "), leader store "),
                    text.out());
            CliRun json = ctl("--json", "slot", key);
            assertTrue(json.out().startsWith("{\"key\":" + Json.quote(key) + ",\"slot\":" + slot + ",\"group\":" + group + ",\"leader\":"),
                    json.out());
        }
        assertEquals(ctl("slot", "user:{42}:name").out().split(",")[0].replace("name", ""),
                ctl("slot", "user:{42}:email").out().split(",")[0].replace("email", ""), "one hash tag, one slot");
    }

    @Test
    void adminCommandsWithoutAGroupOrWithAnUnknownOneAreUsageErrors() {
        for (String[] args : List.of(new String[] {"member", "list"}, new String[] {"transfer-leader", "2"},
                new String[] {"member", "remove", "3"}, new String[] {"member", "add", "4", "127.0.0.1:1", "127.0.0.1:2"})) {
            CliRun run = ctl(args);
            assertEquals(2, run.exitCode(), String.join(" ", args) + ": " + run.out() + run.err());
            assertTrue(run.err().contains("this cluster has 4 data groups (1-4): name one with --group G"), run.err());
            assertEquals("", run.out());
        }
        CliRun unknown = ctl("member", "remove", "3", "--group", "9");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("group 9 is not a data group of this cluster (its groups: 1-4; --group controller names"),
                unknown.err());
        assertEquals(3, stores.stream().filter(s -> s.groups().contains(3L)).count(), "nothing was removed");
    }

    @Test
    void memberListAndTransferLeaderOfOneGroup() throws Exception {
        CliRun list = ctl("member", "list", "--group", "2");
        assertEquals(0, list.exitCode(), list.err());
        assertEquals(3, list.lines().size(), list.out());
        assertEquals(1, list.lines().stream().filter(l -> l.endsWith("(leader)")).count(), list.out());
        assertTrue(ctl("--json", "member", "list", "--group", "2").lines().stream().allMatch(l -> l.contains("\"group\":2,")));

        long leader = leaderOf(2);
        long target = leader % 3 + 1;
        CliRun transfer = ctl("transfer-leader", Long.toString(target), "--group", "2");
        assertEquals(0, transfer.exitCode(), transfer.err());
        assertEquals("OK: leadership transfer to node " + target + " started\n", transfer.out());
        // The balancer may hand it back to the group's preferred store after two election timeouts: look often.
        awaitTrue("store " + target + " leads group 2", () -> leaderOf(2) == target);
    }

    /**
     * {@code --group controller} (or {@code 0}) names group 0, the shard controller, which the
     * default (the only data group) cannot: its members are listed from its leader, its leadership
     * moves, and a membership change of it is refused before anything is sent.
     */
    @Test
    void memberListAndTransferLeaderOfTheShardController() throws Exception {
        long controller = 0;
        CliRun list = ctl("member", "list", "--group", "controller");
        assertEquals(0, list.exitCode(), list.err());
        assertEquals(3, list.lines().size(), list.out());
        assertEquals(1, list.lines().stream().filter(l -> l.endsWith("(leader)")).count(), list.out());
        awaitTrue("the controller has a leader", () -> leaderOf(controller) != 0);
        long leader = leaderOf(controller);
        assertTrue(list.lines().stream().anyMatch(l -> l.startsWith(leader + " ") && l.endsWith("(leader)")), list.out());
        CliRun json = ctl("--json", "member", "list", "--group", "0");
        assertEquals(3, json.lines().size(), json.out());
        assertTrue(json.lines().stream().allMatch(l -> l.contains("\"group\":0,")), json.out());

        long target = leader % 3 + 1;
        CliRun transfer = ctl("transfer-leader", Long.toString(target), "--group", "controller");
        assertEquals(0, transfer.exitCode(), transfer.err());
        assertEquals("OK: leadership transfer to node " + target + " started\n", transfer.out());
        awaitTrue("store " + target + " leads the shard controller", () -> leaderOf(controller) == target);
        awaitTrue("member list names store " + target + " as the controller's leader", () -> ctl("member", "list", "--group",
                "controller").lines().stream().anyMatch(l -> l.startsWith(target + " ") && l.endsWith("(leader)")));
        assertEquals(0, ctl("config", "get").exitCode(), "the controller serves after the transfer");

        for (String[] args : List.of(new String[] {"member", "remove", "3", "--group", "controller"},
                new String[] {"member", "add", "4", "127.0.0.1:1", "127.0.0.1:2", "--group", "0"})) {
            CliRun refused = ctl(args);
            assertEquals(2, refused.exitCode(), String.join(" ", args) + ": " + refused.out() + refused.err());
            assertTrue(refused.err().contains("cannot change the shard controller's membership (group 0)"), refused.err());
        }
        assertEquals(3, stores.stream().filter(s -> s.groups().contains(controller)).count(), "the controller's membership changed");
        CliRun word = ctl("transfer-leader", "2", "--group", "ctrl");
        assertEquals(2, word.exitCode(), word.out());
        assertTrue(word.err().contains("--group takes a group id or 'controller', not 'ctrl'"), word.err());
    }

    @Test
    void memberAddAndRemoveInOneGroup() throws Exception {
        MemberAddress fourth = new MemberAddress(4, new InetSocketAddress("127.0.0.1", freePort()),
                new InetSocketAddress("127.0.0.1", freePort()));
        NodeConfig config = NodeConfigLoader.load(writeConfig(dir.resolve("store4.properties"), fourth, true), Map.of());
        try (Store joined = Store.start(config)) {
            CliRun add = ctl("member", "add", "4", MemberAddress.format(fourth.clientAddress()), MemberAddress.format(fourth.peerAddress()),
                    "--group", "3");
            assertEquals(0, add.exitCode(), add.out() + add.err());
            assertTrue(add.out().startsWith("OK: proposed node 4 as a learner"), add.out());
            awaitTrue("store 4 a voter of group 3", () -> ctl("--json", "member", "list", "--group", "3").lines().stream()
                    .anyMatch(l -> l.startsWith("{\"id\":4,\"group\":3,\"role\":\"voter\"")));
            assertEquals(List.of(3L), joined.groups(), "store 4 hosts group 3 only");
            awaitTrue("ctl groups lists store 4 in group 3", () -> ctl("--json", "groups").lines().get(2)
                    .contains("\"replicas\":[1,2,3,4]"));

            CliRun remove = ctl("member", "remove", "4", "--group", "3");
            assertEquals(0, remove.exitCode(), remove.out() + remove.err());
            awaitTrue("store 4 gone from group 3", () -> ctl("member", "list", "--group", "3").lines().size() == 3);
        }
    }

    /** ctl config get: configuration 1 of the shard controller is the layout the cluster was created with. */
    @Test
    void configGetPrintsTheControllersConfiguration() {
        CliRun text = ctl("config", "get");
        assertEquals(0, text.exitCode(), text.err());
        List<String> lines = text.lines();
        assertEquals("configuration 1 (latest): 4 data groups", lines.get(0), text.out());
        assertEquals(List.of("GROUP", "SLOTS", "STORES", "SLOT", "RANGES"), Arrays.asList(lines.get(1).trim().split("\\s+")));
        for (long group = 1; group <= GROUPS; group++) {
            assertEquals(List.of(Long.toString(group), Integer.toString(SLOTS_PER_GROUP), "1-3", expectedSlots(group)),
                    Arrays.asList(lines.get((int) group + 1).trim().split("\\s+")), text.out());
        }
        CliRun json = ctl("--json", "config", "get", "1");
        assertEquals(0, json.exitCode(), json.err());
        assertTrue(json.out().startsWith("{\"number\":1,\"latest\":true,\"groups\":[{\"group\":1,\"slots\":\"0-4095\",\"slot_count\":4096,"
                + "\"stores\":[1,2,3]}"), json.out());

        CliRun future = ctl("config", "get", "7");
        assertEquals(0, future.exitCode(), future.err());
        assertTrue(future.out().startsWith("configuration 1 (latest)"), "a number past the latest gives the latest: " + future.out());
        CliRun bad = ctl("config", "get", "0");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("start at 1"), bad.err());
        CliRun unknown = ctl("config", "set");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("config takes get"), unknown.err());
    }

    /**
     * ctl config stores: each store's last report to the controller, the groups it hosts (0-4) and
     * leads. (Another test of this class may have added and removed a store 4: its report stays, aging.)
     */
    @Test
    void configStoresListsEachStoresReport() throws Exception {
        awaitTrue("a report from each store", () -> ctl("--json", "config", "stores").lines().size() >= 3);
        CliRun json = ctl("--json", "config", "stores");
        for (int i = 0; i < 3; i++) {
            String line = json.lines().get(i);
            assertTrue(line.startsWith("{\"store\":" + (i + 1) + ",\"address\":\"" + MemberAddress.format(members.get(i).clientAddress())
                    + "\",\"age_ms\":"), line);
            assertTrue(line.contains("\"groups\":\"0-4\""), line);
        }
        CliRun text = ctl("config", "stores");
        assertEquals(0, text.exitCode(), text.err());
        assertEquals(List.of("STORE", "ADDRESS", "REPORTED", "GROUPS", "LEADING", "KEYS", "DATA"),
                Arrays.asList(text.lines().get(0).trim().split("\\s+")));
        assertTrue(text.lines().get(1).trim().startsWith("1 "), text.out());
    }

    /**
     * The reports carry each replica's size: after keys are written, every store (each hosts a
     * replica of every group here) reports at least those keys and their bytes, within the size
     * period (10 s) plus a report period.
     */
    @Test
    void configStoresReportsTheDataEachStoreHolds() throws Exception {
        for (int i = 0; i < 40; i++) {
            CliRun put = ctl("put", "sized-" + i, "x".repeat(1000));
            assertEquals(0, put.exitCode(), put.err());
        }
        awaitTrue("every store reports the 40 keys and their 40,000 bytes of values", () -> {
            List<String> lines = ctl("--json", "config", "stores").lines();
            return lines.size() >= 3 && lines.subList(0, 3).stream().allMatch(line ->
                    jsonNumber(line, "keys") >= 40 && jsonNumber(line, "data_bytes") >= 40_000);
        });
    }

    private static long jsonNumber(String line, String field) {
        java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("\"" + field + "\":(\\d+)").matcher(line);
        return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
    }
}
