package io.loomkv.net.node;

import static io.loomkv.net.node.ShardMoves.addStore;
import static io.loomkv.net.node.ShardMoves.assertAllPresent;
import static io.loomkv.net.node.ShardMoves.configure;
import static io.loomkv.net.node.ShardMoves.fill;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.ForgetStore;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.net.client.KvClient;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shrinking a grown cluster (controller ForgetStore, docs/shard-controller.md "Adding a store"):
 * store 4 is added, group 1's replica moves onto it and off again, and the controller forgets it.
 * Forgetting is refused while the group lists store 4; afterwards store 4, still running, stops by
 * itself and its data directory refuses to start again; stores 1-3 drop it from their address
 * books, also across a restart of all three, and lose no key; store 4 added again (from an empty
 * directory, at new addresses) is another store, whose addresses every store learns.
 */
class StoreForgetStoreTest {
    private static final long GROUP = 1;

    @TempDir
    Path dir;

    @Test
    void aDrainedAddedStoreIsForgottenEverywhereAndMayBeAddedAgain() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).startAll()) {
            cluster.awaitLeaders();
            MemberAddress four = cluster.reserve(4);
            Store first = cluster.start(4);
            Map<String, String> expected = new HashMap<>();
            long added;
            try (KvClient client = cluster.client()) {
                expected.putAll(fill(client, 100, "before"));
                added = configure(client, addStore(4, four));

                configure(client, replace(3, 4));
                LocalCluster.awaitCondition(() -> "store 4 a voter of group 1 in place of store 3: " + first.voters(GROUP),
                        () -> first.voters(GROUP).equals(List.of(1L, 2L, 4L)) && !cluster.node(3).groups().contains(GROUP));
                long onFour = client.config(-1).getConfig().getVersion();
                ControllerReply hosting = client.controller(forget(4));
                assertTrue(hosting.getError().contains("store 4 still hosts replicas of groups [1]"), hosting.getError());
                assertEquals(onFour, client.config(-1).getConfig().getVersion(), "a refused ForgetStore made a configuration");
                ControllerReply initial = client.controller(forget(3));
                assertTrue(initial.getError().contains("store 3 is not an added store"), initial.getError());
                expected.putAll(fill(client, 100, "on-four"));

                configure(client, replace(4, 3));
                LocalCluster.awaitCondition(() -> "group 1 back on store 3: voters " + cluster.node(3).voters(GROUP)
                                + ", store 4 hosts " + first.groups(),
                        () -> cluster.node(3).voters(GROUP).equals(List.of(1L, 2L, 3L)) && !first.groups().contains(GROUP));

                long forgotten = configure(client, forget(4));
                assertEquals(List.of(4L), SlotLayout.fromProto(client.config(forgotten).getConfig()).addedStores().forgotten());
                // Store 4 learns it from the controller, stops, and marks its data directory.
                String reason = first.forgotten().get(30, TimeUnit.SECONDS);
                assertTrue(reason.contains("store 4 was forgotten by the shard controller (configuration " + forgotten + ")"), reason);
                cluster.stop(4);
                DataDirectoryMismatchException refused = assertThrows(DataDirectoryMismatchException.class, () -> cluster.start(4));
                assertTrue(refused.getMessage().contains("which the shard controller forgot in configuration " + forgotten),
                        refused.getMessage());
                for (long store = 1; store <= 3; store++) {
                    long id = store;
                    LocalCluster.awaitCondition("store " + id + " forgets store 4's addresses",
                            () -> cluster.node(id).memberAddress(4) == null);
                    // The book drops the store in memory, then saves the file (in one synchronized call): wait for the file.
                    Path book = cluster.config(id, false).dataDirectory().resolve(Membership.FILE_NAME);
                    LocalCluster.awaitCondition(() -> "store " + id + " still saves store 4's addresses: " + readQuietly(book),
                            () -> !readQuietly(book).matches("(?s)(.*\\n)?4=.*") && readQuietly(book).contains("forgotten-stores=4"));
                }
                expected.putAll(fill(client, 100, "forgotten"));
            }

            for (long store = 1; store <= 3; store++) {
                cluster.stop(store);
            }
            for (long store = 1; store <= 3; store++) {
                cluster.start(store);
                assertNull(cluster.node(store).memberAddress(4), "store " + store + " knows store 4 again after a restart");
            }
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                assertAllPresent(client, expected);
                for (long store = 1; store <= 3; store++) {
                    assertNull(cluster.node(store).memberAddress(4), "store " + store + " knows store 4 again");
                }

                // Added again: another store, from an empty directory and at new addresses.
                deleteRecursively(cluster.config(4, true).dataDirectory());
                MemberAddress again = cluster.reserve(4);
                assertNotEquals(four, again);
                cluster.start(4);
                long readded = configure(client, addStore(4, again));
                assertEquals(readded, SlotLayout.fromProto(client.config(readded).getConfig()).addedStores().get(4).orElseThrow()
                        .getAddedIn());
                assertNotEquals(added, readded);
                for (long store = 1; store <= 3; store++) {
                    long id = store;
                    LocalCluster.awaitCondition("store " + id + " learns store 4's new addresses",
                            () -> again.equals(cluster.node(id).memberAddress(4)));
                }
                assertFalse(cluster.node(4).forgotten().isDone(), "the store added again stopped as if forgotten");
            }
        }
    }

    private static ControllerCommand forget(long store) {
        return ControllerCommand.newBuilder().setForgetStore(ForgetStore.newBuilder().setStoreId(store)).build();
    }

    private static ControllerCommand replace(long from, long to) {
        return ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder().setGroupId(GROUP)
                .setFromStore(from).setToStore(to)).build();
    }

    private static void deleteRecursively(Path root) throws java.io.IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
