package io.loomkv.bench.cluster;

import io.loomkv.bench.kv.ClusterAddresses;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv bench stores}: what each store of a running cluster reports, for benchmark
 * scripts: groups hosted, groups it leads, groups quiet, WAL forces so far. With
 * {@code --await-leaders} it first polls (every 50 ms, in this process: no JVM start per poll)
 * until every group of the layout has a store that leads it, and prints how long that took since
 * {@code --since-epoch-ms} (for "time from process start until every group has a leader").
 */
@Command(name = "stores", mixinStandardHelpOptions = true,
        description = "Per store: groups, leaders, quiet groups, WAL forces; optionally wait until every group has a leader.")
public final class StoresCommand implements Callable<Integer> {
    private static final long POLL_MILLIS = 50;

    @Option(names = "--cluster", paramLabel = "FOLDER|HOST:PORT,...", defaultValue = "conf/sharded-3node",
            description = "a folder of store configs or a list of client addresses (default: ${DEFAULT-VALUE})")
    String cluster;

    @Option(names = "--await-leaders", description = "first wait until every group has a leader")
    boolean awaitLeaders;

    @Option(names = "--since-epoch-ms", defaultValue = "0",
            description = "report the wait from this wall-clock time (epoch ms; default: when this command started)")
    long sinceEpochMillis;

    @Option(names = "--timeout-s", defaultValue = "120", description = "give up waiting after this long (default: ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--json", description = "one JSON object per store")
    boolean json;

    @Override
    public Integer call() throws IOException, InterruptedException {
        long since = sinceEpochMillis > 0 ? sinceEpochMillis : System.currentTimeMillis();
        ClusterAddresses target;
        try {
            target = ClusterAddresses.resolve(cluster);
        } catch (NodeConfigException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        KvClientConfig config = KvClientConfig.of(target.clientAddresses(), target.clusterId())
                .withDeadline(Duration.ofSeconds(2), Duration.ofSeconds(1));
        try (KvClient client = new KvClient(config)) {
            if (awaitLeaders) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
                int missing;
                while ((missing = groupsWithoutLeader(client, target.clientAddresses())) != 0) {
                    if (System.nanoTime() > deadline) {
                        System.err.println("error: " + missing + " groups still without a leader after " + timeoutSeconds + " s");
                        return 1;
                    }
                    Thread.sleep(POLL_MILLIS);
                }
                long elapsed = System.currentTimeMillis() - since;
                System.out.println(json ? "{\"every_group_has_a_leader_after_ms\":" + elapsed + "}"
                        : "every group has a leader " + elapsed + " ms after " + (sinceEpochMillis > 0 ? "the given time" : "this command started"));
            }
            for (InetSocketAddress address : target.clientAddresses()) {
                print(client, address);
            }
        }
        return 0;
    }

    /** Groups of the layout that no reachable store reports leading; -1 while no store answers. */
    private static int groupsWithoutLeader(KvClient client, List<InetSocketAddress> stores) {
        TreeSet<Long> all = null;
        TreeSet<Long> led = new TreeSet<>();
        for (InetSocketAddress store : stores) {
            try {
                var reply = client.layoutOf(store);
                if (all == null) {
                    all = new TreeSet<>(SlotLayout.fromProto(reply.getLayout()).groups());
                }
                for (GroupView group : reply.getGroupsList()) {
                    if ("LEADER".equals(group.getRole())) {
                        led.add(group.getGroupId());
                    }
                }
            } catch (RuntimeException e) {
                // Not up yet.
            }
        }
        if (all == null) {
            return -1;
        }
        all.removeAll(led);
        return all.size();
    }

    private void print(KvClient client, InetSocketAddress address) {
        String where = MemberAddress.format(address);
        NodeStatusReply status;
        try {
            status = client.status(address);
        } catch (RuntimeException e) {
            System.out.println(json ? "{\"address\":\"" + where + "\",\"error\":\"unreachable\"}" : where + " unreachable");
            return;
        }
        int leaders = 0;
        int quiet = 0;
        Map<String, Integer> roles = new TreeMap<>();
        for (GroupView group : status.getGroupsList()) {
            roles.merge(group.getRole(), 1, Integer::sum);
            leaders += "LEADER".equals(group.getRole()) ? 1 : 0;
            quiet += group.getQuiet() ? 1 : 0;
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("address", where);
        fields.put("store", status.getNodeId());
        fields.put("groups", status.getGroupsCount());
        fields.put("leaders", leaders);
        fields.put("quiet", quiet);
        fields.put("wal_forces", status.getWalForceCount());
        if (json) {
            StringBuilder out = new StringBuilder("{");
            fields.forEach((k, v) -> out.append(out.length() > 1 ? "," : "").append('"').append(k).append("\":")
                    .append(v instanceof String text ? "\"" + text + "\"" : v));
            System.out.println(out.append('}'));
        } else {
            System.out.println(where + " store " + status.getNodeId() + ": " + status.getGroupsCount() + " groups, " + leaders
                    + " led, " + quiet + " quiet, roles " + roles + ", " + status.getWalForceCount() + " WAL forces");
        }
    }
}
