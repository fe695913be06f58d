package io.loomkv.tools;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaMovePlanner;
import io.loomkv.core.shard.ReplicaPlacement;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.AddStore;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.ForgetStore;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.StoreEndpoint;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.StoreAddress;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code ctl config add-store|forget-store|add-group|remove-group|move|move-replica|remove-store|wait}:
 * the shard controller's AddStore, ForgetStore, Join, Leave, Move and ReplaceReplica (each makes a
 * new configuration; the stores then learn or drop the store, move the slots or the replica),
 * draining a store of replicas (and forgetting it when it was added), and waiting until every
 * group has reached the latest configuration and moves no slot or replica.
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

    /** Parses "S CLIENT_HOST:PORT PEER_HOST:PORT" for add-store. */
    static ControllerCommand addStore(List<String> args) {
        if (args.size() != 3) {
            throw new CtlCommand.UsageError("config add-store takes the new store's id and addresses: add-store S"
                    + " CLIENT_HOST:PORT PEER_HOST:PORT");
        }
        long store = number(args.get(0), "store id");
        for (String address : args.subList(1, 3)) {
            try {
                MemberAddress.parseHostPort(address);
            } catch (IllegalArgumentException e) {
                throw new CtlCommand.UsageError("store " + store + ": " + e.getMessage());
            }
        }
        return ControllerCommand.newBuilder().setAddStore(AddStore.newBuilder().setStore(StoreEndpoint.newBuilder()
                .setStoreId(store).setClientAddress(args.get(1).trim()).setPeerAddress(args.get(2).trim()))).build();
    }

    /** Parses "S" for forget-store. */
    static ControllerCommand forgetStore(List<String> args) {
        if (args.size() != 1) {
            throw new CtlCommand.UsageError("config forget-store takes one store id: forget-store S");
        }
        return forget(number(args.get(0), "store id"));
    }

    static ControllerCommand forget(long store) {
        return ControllerCommand.newBuilder().setForgetStore(ForgetStore.newBuilder().setStoreId(store)).build();
    }

    /** Parses "G FROM_STORE TO_STORE" for move-replica; G may be 'controller' (group 0). */
    static ControllerCommand moveReplica(List<String> args) {
        if (args.size() != 3) {
            throw new CtlCommand.UsageError("config move-replica takes a group and two stores: move-replica G FROM_STORE TO_STORE"
                    + " (G: a data group id, or 'controller' for the shard controller)");
        }
        long group = "controller".equals(args.get(0)) ? GroupIds.CONTROLLER_GROUP_ID : number(args.get(0), "group id");
        return replace(new ReplicaPlacement.Move(group, number(args.get(1), "store id"), number(args.get(2), "store id")));
    }

    static ControllerCommand replace(ReplicaPlacement.Move move) {
        return ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder().setGroupId(move.group())
                .setFromStore(move.from()).setToStore(move.to())).build();
    }

    /**
     * Moves every replica off {@code store}, one at a time, each to the least loaded other live
     * store that does not host its group, waiting for each move to finish before the next. The
     * whole plan is made (and refused, changing nothing) before the first move. 0 when the store
     * hosts nothing any more, 1 when the controller refused a move or one did not finish in time.
     */
    static int removeStore(KvClient client, List<InetSocketAddress> stores, StorePlacement.View view, long store,
            Duration timeout, boolean json, PrintStream out) {
        List<ReplicaPlacement.Move> moves;
        try {
            moves = ReplicaPlacement.drain(view.layout(), view.live(), store, view.sizes());
        } catch (IllegalArgumentException e) {
            throw new CtlCommand.UsageError(e.getMessage() + (view.notLive().isEmpty() ? "" : " (" + view.notLive() + ")"));
        }
        PrintStream progress = json ? new PrintStream(java.io.OutputStream.nullOutputStream()) : out;
        if (moves.isEmpty()) {
            progress.println("store " + store + " hosts no replica in configuration " + view.layout().version());
        }
        for (ReplicaPlacement.Move move : moves) {
            progress.println("moving group " + move.group() + "'s replica from store " + move.from() + " to store " + move.to());
            ControllerReply reply = client.controller(replace(move));
            if (!reply.getError().isEmpty()) {
                return report(reply, json, out);
            }
            if (await(client, stores, timeout, true, new PrintStream(java.io.OutputStream.nullOutputStream())) != 0) {
                return 1;
            }
        }
        progress.println("OK: store " + store + " hosts no replica now (" + moves.size() + " moved)");
        if (view.layout().addedStores().get(store).isEmpty()) {
            if (json) {
                out.println("{\"ok\":true,\"moves\":" + moves.size() + ",\"forgotten\":false}");
            } else {
                out.println("store " + store + " is one of the stores the cluster was created with: it stays a member");
            }
            return 0;
        }
        // An added store with nothing left on it leaves the cluster's list too, so the others drop its addresses.
        ControllerReply forgot = client.controller(forget(store));
        if (!forgot.getError().isEmpty()) {
            return refused(forgot, json, out);
        }
        if (json) {
            out.println("{\"ok\":true,\"moves\":" + moves.size() + ",\"forgotten\":true,\"config\":"
                    + forgot.getConfig().getVersion() + "}");
        } else {
            out.println(forgottenLine(store, forgot));
        }
        return 0;
    }

    /** Prints what a ForgetStore made; 1 when the controller refused it. */
    static int reportForgotten(long store, ControllerReply reply, boolean json, PrintStream out) {
        if (!reply.getError().isEmpty()) {
            return refused(reply, json, out);
        }
        if (json) {
            out.println("{\"ok\":true,\"config\":" + reply.getConfig().getVersion() + ",\"forgotten\":" + store + "}");
        } else {
            out.println(forgottenLine(store, reply));
        }
        return 0;
    }

    private static String forgottenLine(long store, ControllerReply reply) {
        return "OK: configuration " + reply.getConfig().getVersion() + " forgets store " + store + ": every store drops its"
                + " addresses, and store " + store + " stops by itself if it still runs (its data directory cannot be started"
                + " again; the id may be added again for a store started from an empty data directory)";
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
        if (command.hasAddStore() && members.contains(command.getAddStore().getStore().getStoreId())) {
            return "store " + command.getAddStore().getStore().getStoreId() + " is already a member of the cluster (members: "
                    + members + ")";
        }
        if (command.hasReplaceReplica() && !members.contains(command.getReplaceReplica().getToStore())) {
            return "store " + command.getReplaceReplica().getToStore() + " is not a member of the cluster (members: " + members + ")";
        }
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
            return refused(reply, json, out);
        }
        if (json) {
            out.println("{\"ok\":true,\"config\":" + reply.getConfig().getVersion() + "}");
        } else {
            out.println("OK: configuration " + reply.getConfig().getVersion()
                    + "; the stores move the slots and replicas now (ctl config wait blocks until they are done)");
        }
        return 0;
    }

    /** Prints the controller's refusal; returns 1. */
    private static int refused(ControllerReply reply, boolean json, PrintStream out) {
        if (json) {
            out.println("{\"ok\":false,\"message\":" + Json.quote(reply.getError()) + "}");
        }
        System.err.println("error: " + reply.getError());
        return 1;
    }

    /**
     * Waits until the leader of every group of the latest configuration has applied it and moves
     * no slot, and every group whose replicas the controller moved has exactly its listed stores as
     * voters; prints the groups still moving once a second. 0 when settled, 1 at the timeout.
     */
    static int await(KvClient client, List<InetSocketAddress> stores, Duration timeout, boolean json, PrintStream out) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastPrint = 0;
        String pending = "";
        while (true) {
            ControllerReply latest = client.config(-1);
            if (latest.getError().isEmpty()) {
                SlotLayout layout = SlotLayout.fromProto(latest.getConfig());
                Map<Long, java.util.Set<Long>> hosts = new TreeMap<>();
                Map<Long, GroupView> leaders = leaderViews(client, stores, hosts);
                StringBuilder behind = new StringBuilder();
                if (ReplicaMovePlanner.managed(layout, GroupIds.CONTROLLER_GROUP_ID)) {
                    // The controller has no slots or configuration walk, only replicas to move.
                    GroupView view = leaders.get(GroupIds.CONTROLLER_GROUP_ID);
                    if (view == null || replicasMoving(layout, GroupIds.CONTROLLER_GROUP_ID, view,
                            hosts.getOrDefault(GroupIds.CONTROLLER_GROUP_ID, java.util.Set.of()))) {
                        behind.append("the shard controller (group 0)").append(view == null ? " (no leader known)"
                                : " moving replicas: voters " + view.getVotersList() + " learners " + view.getLearnersList()
                                + " on stores " + hosts.get(GroupIds.CONTROLLER_GROUP_ID) + ", configured "
                                + layout.controllerStores());
                    }
                }
                for (long group : layout.groups()) {
                    GroupView view = leaders.get(group);
                    if (view == null || view.getConfigNumber() != layout.version() || view.getMovingSlots() != 0) {
                        behind.append(behind.isEmpty() ? "" : ", ").append("group ").append(group)
                                .append(view == null ? " (no leader known)" : " at " + view.getConfigNumber() + ", "
                                        + view.getMovingSlots() + " slots moving");
                    } else if (replicasMoving(layout, group, view, hosts.getOrDefault(group, java.util.Set.of()))) {
                        behind.append(behind.isEmpty() ? "" : ", ").append("group ").append(group)
                                .append(" moving replicas: voters ").append(view.getVotersList()).append(" learners ")
                                .append(view.getLearnersList()).append(" on stores ").append(hosts.get(group))
                                .append(", configured ").append(layout.replicas(group));
                    }
                }
                if (behind.isEmpty()) {
                    if (json) {
                        out.println("{\"ok\":true,\"config\":" + layout.version() + "}");
                    } else {
                        out.println("settled: every group is at configuration " + layout.version()
                                + " and moves no slot or replica");
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

    /**
     * Whether a group the controller moved replicas of has other members than its listed stores as
     * voters (groups never moved keep whatever {@code ctl member} made of them; the stores leave
     * those alone, and so does this wait).
     */
    private static boolean replicasMoving(SlotLayout layout, long group, GroupView view, java.util.Set<Long> hosts) {
        return layout.replicaChanges(group) > 0 && (view.getLearnersCount() > 0
                || !new java.util.TreeSet<>(view.getVotersList()).equals(new java.util.TreeSet<>(layout.replicas(group)))
                || !layout.replicas(group).containsAll(hosts));
    }

    /**
     * Each group's view as the store leading it reports it, and in {@code hosts} the stores that
     * still hold a replica of each group (a moved replica's old store until it drops it); stores
     * that do not answer are skipped.
     */
    private static Map<Long, GroupView> leaderViews(KvClient client, List<InetSocketAddress> stores,
            Map<Long, java.util.Set<Long>> hosts) {
        Map<Long, GroupView> leaders = new TreeMap<>();
        // The stores named on the command line, then every store their replies list: a store added
        // to the cluster (config add-store) is in no config folder, and may lead groups.
        ArrayDeque<InetSocketAddress> toAsk = new ArrayDeque<>(stores);
        Set<String> asked = new HashSet<>();
        Set<Long> answered = new HashSet<>();
        while (!toAsk.isEmpty()) {
            InetSocketAddress store = toAsk.poll();
            if (!asked.add(store.getHostString() + ":" + store.getPort())) {
                continue;
            }
            LayoutReply reply;
            try {
                reply = client.layoutOf(store);
            } catch (RuntimeException e) {
                continue;
            }
            if (!answered.add(reply.getStoreId())) {
                continue; // the same store under another name
            }
            for (StoreAddress listed : reply.getStoresList()) {
                try {
                    toAsk.add(MemberAddress.parseHostPort(listed.getClientAddress()));
                } catch (IllegalArgumentException e) {
                    // An unusable address in a reply: that store is not asked.
                }
            }
            for (GroupView view : reply.getGroupsList()) {
                if (!"NONE".equals(view.getRole())) {
                    hosts.computeIfAbsent(view.getGroupId(), g -> new java.util.TreeSet<>()).add(reply.getStoreId());
                }
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
