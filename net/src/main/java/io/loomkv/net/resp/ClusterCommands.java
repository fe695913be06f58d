package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.Slots;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Redis Cluster commands: {@code CLUSTER SLOTS|SHARDS|NODES|MYID|INFO|KEYSLOT}, {@code READONLY},
 * {@code READWRITE}, {@code ASKING}, in Redis 7.2's reply shapes so cluster clients (redis-cli -c,
 * Jedis, Lettuce) parse them. Answered from the backend's {@link RespCluster}; a backend without
 * one (the gateway) answers like a Redis without cluster mode, except {@code CLUSTER KEYSLOT},
 * which needs nothing but the key.
 */
final class ClusterCommands {
    /** What a Redis without cluster mode answers: cluster clients then fall back or report it. */
    private static final String DISABLED = "This instance has cluster support disabled";

    private ClusterCommands() {}

    static List<RespCommand> all() {
        return List.of(
                RespCommand.local("cluster", -2, "cluster", "3.0.0",
                        "CLUSTER SLOTS|SHARDS|NODES|MYID|INFO|KEYSLOT: the slot layout and the leaders.", ClusterCommands::cluster),
                RespCommand.local("readonly", 1, "cluster", "3.0.0",
                        "Lets the connection read from follower replicas (possibly stale).", (c, a) -> readMode(c, true)),
                RespCommand.local("readwrite", 1, "cluster", "3.0.0",
                        "Reads go to the leader again (linearizable).", (c, a) -> readMode(c, false)),
                RespCommand.local("asking", 1, "cluster", "3.0.0",
                        "Accepted for Redis Cluster clients; changes nothing: a slot moves whole, so no -ASK is ever sent.",
                        ClusterCommands::asking));
    }

    private static CompletableFuture<RespReply> asking(CommandContext context, List<ByteString> arguments) {
        requireCluster(context);
        return ServerCommands.done(RespReply.OK);
    }

    private static CompletableFuture<RespReply> readMode(CommandContext context, boolean readOnly) {
        requireCluster(context);
        context.session().readOnly(readOnly);
        return ServerCommands.done(RespReply.OK);
    }

    private static RespCluster requireCluster(CommandContext context) {
        return context.backend().cluster().orElseThrow(() -> RespError.err(DISABLED));
    }

    private static CompletableFuture<RespReply> cluster(CommandContext context, List<ByteString> arguments) {
        String sub = RespArgs.lower(arguments.get(1));
        int count = arguments.size();
        if (sub.equals("keyslot")) {
            ServerCommands.requireArity(count == 3, "cluster|keyslot");
            return ServerCommands.done(RespReply.integer(Slots.slotOf(arguments.get(2))));
        }
        RespCluster cluster = requireCluster(context);
        return switch (sub) {
            case "myid" -> {
                ServerCommands.requireArity(count == 2, "cluster|myid");
                yield ServerCommands.done(RespReply.bulk(cluster.myId()));
            }
            case "slots" -> {
                ServerCommands.requireArity(count == 2, "cluster|slots");
                yield cluster.view().thenApply(ClusterCommands::slots);
            }
            case "shards" -> {
                ServerCommands.requireArity(count == 2, "cluster|shards");
                yield cluster.view().thenApply(ClusterCommands::shards);
            }
            case "nodes" -> {
                ServerCommands.requireArity(count == 2, "cluster|nodes");
                yield cluster.view().thenApply(view -> RespReply.bulk(nodes(view)));
            }
            case "info" -> {
                ServerCommands.requireArity(count == 2, "cluster|info");
                yield cluster.view().thenApply(view -> RespReply.bulk(info(view)));
            }
            default -> throw ServerCommands.unknownSubcommand(arguments.get(1), "CLUSTER");
        };
    }

    /** One entry per slot range: start, end, then the master and each replica as [ip, port, id, {}]. */
    static RespReply slots(RespCluster.View view) {
        List<RespReply> entries = new ArrayList<>();
        for (RespCluster.Shard shard : view.shards()) {
            for (SlotRange range : shard.ranges()) {
                List<RespReply> entry = new ArrayList<>();
                entry.add(RespReply.integer(range.first()));
                entry.add(RespReply.integer(range.last()));
                entry.add(slotsNode(shard.master()));
                shard.replicas().forEach(replica -> entry.add(slotsNode(replica)));
                entries.add(new RespReply.Array(entry));
            }
        }
        return new RespReply.Array(entries);
    }

    private static RespReply slotsNode(RespCluster.Node node) {
        // Redis 7's fourth element holds extra networking metadata (hostname); there is none.
        return new RespReply.Array(List.of(RespReply.bulk(node.host()), RespReply.integer(node.port()),
                RespReply.bulk(node.id()), new RespReply.Map(List.of())));
    }

    /** Redis 7's CLUSTER SHARDS: per shard a map of its slot ranges (flat start/end pairs) and its nodes. */
    static RespReply shards(RespCluster.View view) {
        List<RespReply> shards = new ArrayList<>();
        for (RespCluster.Shard shard : view.shards()) {
            List<RespReply> slots = new ArrayList<>();
            for (SlotRange range : shard.ranges()) {
                slots.add(RespReply.integer(range.first()));
                slots.add(RespReply.integer(range.last()));
            }
            List<RespReply> nodes = new ArrayList<>();
            nodes.add(shardNode(shard.master(), "master", shard.leaderKnown() && !shard.master().failed() ? "online" : "failed"));
            shard.replicas().forEach(replica -> nodes.add(shardNode(replica, "replica", "online")));
            shards.add(new RespReply.Map(List.of(RespReply.bulk("slots"), new RespReply.Array(slots),
                    RespReply.bulk("nodes"), new RespReply.Array(nodes))));
        }
        return new RespReply.Array(shards);
    }

    private static RespReply shardNode(RespCluster.Node node, String role, String health) {
        return new RespReply.Map(List.of(
                RespReply.bulk("id"), RespReply.bulk(node.id()),
                RespReply.bulk("port"), RespReply.integer(node.port()),
                RespReply.bulk("ip"), RespReply.bulk(node.host()),
                RespReply.bulk("endpoint"), RespReply.bulk(node.host()),
                RespReply.bulk("role"), RespReply.bulk(role),
                RespReply.bulk("replication-offset"), RespReply.integer(0),
                RespReply.bulk("health"), RespReply.bulk(health)));
    }

    /**
     * CLUSTER NODES: one line per store, every store a master owning the slots of the groups it
     * leads: {@code <id> <ip:port@cport> <flags> - 0 0 <epoch> connected <slots...>}. There is no
     * cluster bus; the bus port is shown as Redis's default offset (port + 10000) when that fits.
     */
    static String nodes(RespCluster.View view) {
        StringBuilder text = new StringBuilder();
        for (RespCluster.Node node : view.nodes()) {
            int busPort = node.port() + 10_000 <= 65_535 ? node.port() + 10_000 : 0;
            text.append(node.id()).append(' ').append(node.host()).append(':').append(node.port()).append('@')
                    .append(busPort).append(' ').append(node.myself() ? "myself,master" : node.failed() ? "master,fail" : "master")
                    .append(" - 0 0 ").append(view.epoch()).append(" connected");
            for (SlotRange range : ledRanges(view, node)) {
                text.append(' ').append(range.first());
                if (range.last() != range.first()) {
                    text.append('-').append(range.last());
                }
            }
            text.append('\n');
        }
        return text.toString();
    }

    /** The slot ranges {@code node} is master of, adjacent ones joined (as Redis lists them), ascending. */
    private static List<SlotRange> ledRanges(RespCluster.View view, RespCluster.Node node) {
        List<SlotRange> ranges = new ArrayList<>();
        for (RespCluster.Shard shard : view.shards()) {
            if (shard.master().id().equals(node.id())) {
                ranges.addAll(shard.ranges());
            }
        }
        ranges.sort(java.util.Comparator.comparingInt(SlotRange::first));
        List<SlotRange> joined = new ArrayList<>();
        for (SlotRange range : ranges) {
            SlotRange last = joined.isEmpty() ? null : joined.get(joined.size() - 1);
            if (last != null && last.last() + 1 == range.first()) {
                joined.set(joined.size() - 1, new SlotRange(last.first(), range.last()));
            } else {
                joined.add(range);
            }
        }
        return joined;
    }

    /** CLUSTER INFO: the state is {@code ok} while every group has a leader, as Redis's is while every slot is served. */
    static String info(RespCluster.View view) {
        int assigned = 0;
        int served = 0;
        List<String> masters = new ArrayList<>();
        for (RespCluster.Shard shard : view.shards()) {
            int size = shard.ranges().stream().mapToInt(r -> r.last() - r.first() + 1).sum();
            assigned += size;
            if (shard.leaderKnown()) {
                served += size;
                if (!masters.contains(shard.master().id())) {
                    masters.add(shard.master().id());
                }
            }
        }
        boolean ok = assigned == Slots.SLOT_COUNT && served == assigned;
        return "cluster_state:" + (ok ? "ok" : "fail") + "\r\n"
                + "cluster_slots_assigned:" + assigned + "\r\n"
                + "cluster_slots_ok:" + served + "\r\n"
                + "cluster_slots_pfail:0\r\n"
                + "cluster_slots_fail:" + (assigned - served) + "\r\n"
                + "cluster_known_nodes:" + view.nodes().size() + "\r\n"
                + "cluster_size:" + masters.size() + "\r\n"
                + "cluster_current_epoch:" + view.epoch() + "\r\n"
                + "cluster_my_epoch:" + view.epoch() + "\r\n"
                + "cluster_stats_messages_sent:0\r\n"
                + "cluster_stats_messages_received:0\r\n"
                + "total_cluster_links_buffer_limit_exceeded:0\r\n";
    }
}
