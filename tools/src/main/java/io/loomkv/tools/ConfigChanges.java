package io.loomkv.tools;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code ctl config add-group|remove-group|move|wait}: the shard controller's Join, Leave and Move
 * (each makes a new configuration; the stores then move the slots), and waiting until every group
 * has reached the latest configuration and moves no slot.
 */
final class ConfigChanges {

    private ConfigChanges() {}

    /** The group id of "G [STORE...]" for add-group. */
    static long addedGroup(List<String> args) {
        if (args.isEmpty()) {
            throw new CtlCommand.UsageError("config add-group takes a group id, and the stores to host it or none (the least"
                    + " loaded live stores are chosen): add-group G [STORE...] [--replicas N]");
        }
        return number(args.get(0), "group id");
    }

    /** A Join of group G on the stores named after it in "G STORE...". */
    static ControllerCommand addGroup(List<String> args) {
        if (args.size() < 2) {
            throw new CtlCommand.UsageError("config add-group G STORE... names at least one store");
        }
        List<Long> stores = new ArrayList<>();
        for (String store : args.subList(1, args.size())) {
            stores.add(number(store, "store id"));
        }
        return join(addedGroup(args), stores);
    }

    static ControllerCommand join(long group, List<Long> stores) {
        return ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                .addGroups(GroupReplicas.newBuilder().setGroupId(group).addAllStoreIds(stores))).build();
    }

    /** Parses "G..." for remove-group. */
    static ControllerCommand removeGroups(List<String> args) {
        if (args.isEmpty()) {
            throw new CtlCommand.UsageError("config remove-group takes the ids of the groups to retire");
        }
        LeaveGroups.Builder leave = LeaveGroups.newBuilder();
        for (String group : args) {
            leave.addGroupIds(number(group, "group id"));
        }
        return ControllerCommand.newBuilder().setLeave(leave).build();
    }

    /** Parses "SLOT[-LAST] G" for move. */
    static ControllerCommand move(List<String> args) {
        if (args.size() != 2) {
            throw new CtlCommand.UsageError("config move takes a slot or a range and a group: move SLOT[-LAST] G");
        }
        String[] range = args.get(0).split("-", 2);
        long first = number(range[0], "slot");
        long last = range.length == 2 ? number(range[1], "slot") : first;
        if (first > last || last >= Slots.SLOT_COUNT) {
            throw new CtlCommand.UsageError("slots are 0.." + (Slots.SLOT_COUNT - 1) + " and a range goes up: got " + args.get(0));
        }
        return ControllerCommand.newBuilder().setMove(MoveSlots.newBuilder().setFirst((int) first).setLast((int) last)
                .setGroupId(number(args.get(1), "group id"))).build();
    }

    /**
     * Why a Join names a store the cluster does not have, or null. The controller keeps slots and
     * groups, not the stores' addresses, so this is checked against the members a store lists.
     */
    static String unknownStores(ControllerCommand command, List<Long> members) {
        if (!command.hasJoin()) {
            return null;
        }
        for (GroupReplicas group : command.getJoin().getGroupsList()) {
            for (long store : group.getStoreIdsList()) {
                if (!members.contains(store)) {
                    return "store " + store + " is not a member of the cluster (members: " + members + ")";
                }
            }
        }
        return null;
    }

    /** Prints what a Join, Leave or Move made; 1 when the controller refused it. */
    static int report(ControllerReply reply, boolean json, PrintStream out) {
        if (!reply.getError().isEmpty()) {
            if (json) {
                out.println("{\"ok\":false,\"message\":" + Json.quote(reply.getError()) + "}");
            }
            System.err.println("error: " + reply.getError());
            return 1;
        }
        if (json) {
            out.println("{\"ok\":true,\"config\":" + reply.getConfig().getVersion() + "}");
        } else {
            out.println("OK: configuration " + reply.getConfig().getVersion()
                    + "; the stores move the slots now (ctl config wait blocks until they are done)");
        }
        return 0;
    }

    /**
     * Waits until the leader of every group of the latest configuration has applied it and moves
     * no slot; prints the groups still moving once a second. 0 when settled, 1 at the timeout.
     */
    static int await(KvClient client, List<InetSocketAddress> stores, Duration timeout, boolean json, PrintStream out) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastPrint = 0;
        String pending = "";
        while (true) {
            ControllerReply latest = client.config(-1);
            if (latest.getError().isEmpty()) {
                SlotLayout layout = SlotLayout.fromProto(latest.getConfig());
                Map<Long, GroupView> leaders = leaderViews(client, stores);
                StringBuilder behind = new StringBuilder();
                for (long group : layout.groups()) {
                    GroupView view = leaders.get(group);
                    if (view == null || view.getConfigNumber() != layout.version() || view.getMovingSlots() != 0) {
                        behind.append(behind.isEmpty() ? "" : ", ").append("group ").append(group)
                                .append(view == null ? " (no leader known)" : " at " + view.getConfigNumber() + ", "
                                        + view.getMovingSlots() + " slots moving");
                    }
                }
                if (behind.isEmpty()) {
                    if (json) {
                        out.println("{\"ok\":true,\"config\":" + layout.version() + "}");
                    } else {
                        out.println("settled: every group is at configuration " + layout.version() + " and moves no slot");
                    }
                    return 0;
                }
                pending = "configuration " + layout.version() + ": " + behind;
                if (!json && System.nanoTime() - lastPrint > Duration.ofSeconds(1).toNanos()) {
                    lastPrint = System.nanoTime();
                    out.println("waiting: " + pending);
                }
            } else {
                pending = latest.getError();
            }
            if (System.nanoTime() > deadline) {
                if (json) {
                    out.println("{\"ok\":false,\"message\":" + Json.quote(pending) + "}");
                }
                System.err.println("error: not settled within " + timeout.toMillis() + " ms: " + pending);
                return 1;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                System.err.println("error: interrupted while waiting: " + pending);
                return 1;
            }
        }
    }

    /** Each group's view as the store leading it reports it; stores that do not answer are skipped. */
    private static Map<Long, GroupView> leaderViews(KvClient client, List<InetSocketAddress> stores) {
        Map<Long, GroupView> leaders = new TreeMap<>();
        for (InetSocketAddress store : stores) {
            LayoutReply reply;
            try {
                reply = client.layoutOf(store);
            } catch (RuntimeException e) {
                continue;
            }
            for (GroupView view : reply.getGroupsList()) {
                if ("LEADER".equals(view.getRole())) {
                    leaders.put(view.getGroupId(), view);
                }
            }
        }
        return leaders;
    }

    private static long number(String text, String what) {
        try {
            long value = Long.parseLong(text);
            if (value < 0) {
                throw new CtlCommand.UsageError(what + " '" + text + "' is negative");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new CtlCommand.UsageError(what + " '" + text + "' is not a number");
        }
    }
}
