package io.loomkv.tools;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.ReplicaPlacement;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.ReceivedStoreReport;
import io.loomkv.net.store.proto.StoreReportsReply;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the CLI places replicas by (docs/shard-controller.md, "Placement of replicas"): the
 * controller's latest configuration (how many replicas each store holds) and the stores' reports
 * to the controller (which stores are live, and how many bytes each holds, which breaks ties). The choice itself is {@link ReplicaPlacement}'s; it
 * is made here, not in the controller's state machine, because the reports live only in the
 * controller leader's memory and a replicated state machine may not read anything outside its
 * log. The command sent names the stores chosen, and the controller checks it like any other.
 */
final class StorePlacement {
    /**
     * A store is live when its last report is at most this old: three report periods of 2 s, so
     * one lost or late report does not make a store look dead.
     */
    static final long LIVE_REPORT_AGE_MILLIS = 6_000;

    /**
     * The latest configuration, the live member stores, a note on the members that are not live (""
     * when all are), and the data sizes the live stores reported.
     */
    record View(SlotLayout layout, List<Long> live, String notLive, ReplicaPlacement.Sizes sizes) {
        /** Each live store's replica count, for messages. */
        Map<Long, Integer> loads() {
            return ReplicaPlacement.loads(layout, live);
        }
    }

    private StorePlacement() {
    }

    static View read(KvClient client, Collection<Long> members) {
        ControllerReply latest = client.config(-1);
        if (!latest.getError().isEmpty()) {
            throw new CtlCommand.UsageError("cannot read the controller's configuration: " + latest.getError());
        }
        StoreReportsReply reports = client.storeReports();
        Map<Long, Long> ageMillis = new TreeMap<>();
        Map<Long, Long> storeBytes = new TreeMap<>();
        Map<Long, Long> groupBytes = new TreeMap<>();
        for (ReceivedStoreReport received : reports.getStoresList()) {
            long store = received.getReport().getStoreId();
            ageMillis.put(store, received.getAgeMillis());
            for (GroupView group : received.getReport().getGroupsList()) {
                if (group.getGroupId() != GroupIds.CONTROLLER_GROUP_ID) {
                    storeBytes.merge(store, group.getDataBytes(), Long::sum);
                    groupBytes.merge(group.getGroupId(), group.getDataBytes(), Math::max);
                }
            }
        }
        List<Long> live = new ArrayList<>();
        List<String> notLive = new ArrayList<>();
        for (long store : new TreeSet<>(members)) {
            Long age = ageMillis.get(store);
            if (age != null && age <= LIVE_REPORT_AGE_MILLIS) {
                live.add(store);
            } else {
                notLive.add("store " + store + (age == null ? " has not reported" : String.format(" last reported %.1f s ago", age / 1000.0)));
            }
        }
        return new View(SlotLayout.fromProto(latest.getConfig()), live, String.join(", ", notLive),
                new ReplicaPlacement.Sizes(storeBytes, groupBytes));
    }

    /** The stores for a new group, or a usage error saying why there are not enough. */
    static List<Long> forNewGroup(View view, int replicas) {
        try {
            return ReplicaPlacement.forNewGroup(view.layout(), view.live(), replicas, view.sizes());
        } catch (IllegalArgumentException e) {
            throw new CtlCommand.UsageError(e.getMessage() + (view.notLive().isEmpty() ? "" : " (" + view.notLive() + ")"));
        }
    }
}
