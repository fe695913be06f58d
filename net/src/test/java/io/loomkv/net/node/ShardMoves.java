package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.shard.controller.proto.AddStore;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.StoreEndpoint;
import io.loomkv.net.client.KvClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the 6.824 Lab 4B scenarios on real stores share ({@link StoreShardKvTest},
 * {@link StoreShardKvFaultTest}): keys written and checked through a client, controller commands,
 * and waiting until the data groups have moved their slots.
 */
final class ShardMoves {
    /**
     * How long a group may take to reach a configuration with no slot moving: a move under client
     * load (and faults) on a shared 2-core machine can take a while; the time it took is not what
     * these tests check.
     */
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(90);

    private ShardMoves() {
    }

    /** Puts {@code count} keys {@code prefix-key-i} with values {@code prefix-value-i}; returns them. */
    static Map<String, String> fill(KvClient client, int count, String prefix) {
        Map<String, String> written = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            String key = prefix + "-key-" + i;
            String value = prefix + "-value-" + i;
            client.put(key, value);
            written.put(key, value);
        }
        return written;
    }

    static void assertAllPresent(KvClient client, Map<String, String> expected) {
        for (Map.Entry<String, String> entry : expected.entrySet()) {
            assertEquals(entry.getValue(), client.get(entry.getKey()).orElse(null), "key " + entry.getKey());
        }
    }

    /** Carries out a controller command; returns the configuration it made. */
    static long configure(KvClient client, ControllerCommand command) {
        ControllerReply reply = client.controller(command);
        assertEquals("", reply.getError());
        return reply.getConfig().getVersion();
    }

    /** Waits until every listed group's leader has applied {@code config} and moves no slot ({@link #SETTLE_TIMEOUT}). */
    static void awaitSettled(LocalCluster cluster, long config, List<Long> groups) throws InterruptedException {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        for (long group : groups) {
            while (true) {
                Store leader = cluster.awaitLeader(group);
                SlotOwnershipState ownership = leader.slotOwnership(group);
                if (ownership != null && ownership.getConfigNumber() == config && ownership.getMovingCount() == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("group " + group + " did not settle at configuration " + config + " within "
                            + SETTLE_TIMEOUT.toSeconds() + " s: " + (ownership == null ? "no answer"
                            : "at " + ownership.getConfigNumber() + ", " + ownership.getMovingCount() + " slots moving"));
                }
                Thread.sleep(50);
            }
        }
    }

    /** Join of {@code group} on stores 1, 2 and 3. */
    /** An AddStore of store {@code id} at {@code address}. */
    static ControllerCommand addStore(long id, MemberAddress address) {
        return ControllerCommand.newBuilder().setAddStore(AddStore.newBuilder().setStore(StoreEndpoint.newBuilder()
                .setStoreId(id).setClientAddress(MemberAddress.format(address.clientAddress()))
                .setPeerAddress(MemberAddress.format(address.peerAddress())))).build();
    }

    static ControllerCommand join(long group) {
        return join(group, 1, 2, 3);
    }

    /** Join of {@code group} on {@code stores}. */
    static ControllerCommand join(long group, long... stores) {
        GroupReplicas.Builder replicas = GroupReplicas.newBuilder().setGroupId(group);
        for (long store : stores) {
            replicas.addStoreIds(store);
        }
        return ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder().addGroups(replicas)).build();
    }

    /** Leave of {@code groups}, in one configuration. */
    static ControllerCommand leave(long... groups) {
        LeaveGroups.Builder leave = LeaveGroups.newBuilder();
        for (long group : groups) {
            leave.addGroupIds(group);
        }
        return ControllerCommand.newBuilder().setLeave(leave).build();
    }
}
