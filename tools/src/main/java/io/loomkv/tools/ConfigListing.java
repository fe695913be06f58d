package io.loomkv.tools;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.core.shard.proto.StoreEndpoint;
import java.io.PrintStream;
import java.util.StringJoiner;

/**
 * {@code ctl config get}: one shard controller configuration as operators read it: its number,
 * then one line per group with its slots (as ranges), slot count and replica stores, the shard
 * controller's stores (when the configuration lists them), the stores added to the cluster with
 * their addresses, and the ids of added stores forgotten since; or one JSON object with the same.
 */
final class ConfigListing {
    private static final String TEXT_FORMAT = "%-7s %-7s %-14s %s%n";

    private ConfigListing() {
    }

    static void print(Layout config, long latestNumber, boolean json, PrintStream out) {
        SlotLayout layout = SlotLayout.fromProto(config);
        if (json) {
            StringJoiner groups = new StringJoiner(",", "[", "]");
            for (long group : layout.groups()) {
                SlotSet slots = layout.slotsOf(group);
                StringJoiner stores = new StringJoiner(",", "[", "]");
                layout.replicas(group).forEach(id -> stores.add(Long.toString(id)));
                groups.add("{\"group\":" + group + ",\"slots\":" + Json.quote(CompactRanges.slots(slots)) + ",\"slot_count\":"
                        + slots.size() + ",\"stores\":" + stores + "}");
            }
            StringJoiner added = new StringJoiner(",", "[", "]");
            for (StoreEndpoint store : layout.addedStores().all()) {
                added.add("{\"store\":" + store.getStoreId() + ",\"client_address\":" + Json.quote(store.getClientAddress())
                        + ",\"peer_address\":" + Json.quote(store.getPeerAddress()) + ",\"added_in\":" + store.getAddedIn() + "}");
            }
            StringJoiner forgotten = new StringJoiner(",", "[", "]");
            layout.addedStores().forgotten().forEach(id -> forgotten.add(Long.toString(id)));
            StringJoiner controller = new StringJoiner(",", "[", "]");
            layout.controllerStores().forEach(id -> controller.add(Long.toString(id)));
            out.println("{\"number\":" + layout.version() + ",\"latest\":" + (layout.version() == latestNumber)
                    + ",\"groups\":" + groups + ",\"controller_stores\":" + controller + ",\"added_stores\":" + added
                    + ",\"forgotten_stores\":" + forgotten + "}");
            return;
        }
        out.println("configuration " + layout.version() + (layout.version() == latestNumber ? " (latest)" : " (latest is "
                + latestNumber + ")") + ": " + layout.groups().size() + " data groups");
        out.printf(TEXT_FORMAT, "GROUP", "SLOTS", "STORES", "SLOT RANGES");
        for (long group : layout.groups()) {
            SlotSet slots = layout.slotsOf(group);
            out.printf(TEXT_FORMAT, group, slots.size(), CompactRanges.ids(layout.replicas(group)), CompactRanges.slots(slots));
        }
        if (!layout.controllerStores().isEmpty()) {
            out.println("shard controller (group 0): stores " + CompactRanges.ids(layout.controllerStores()));
        }
        for (StoreEndpoint store : layout.addedStores().all()) {
            out.println("added store " + store.getStoreId() + ": client " + store.getClientAddress() + ", peer "
                    + store.getPeerAddress() + (store.getAddedIn() == 0 ? "" : " (added in configuration " + store.getAddedIn() + ")"));
        }
        if (!layout.addedStores().forgotten().isEmpty()) {
            out.println("forgotten stores: " + CompactRanges.ids(layout.addedStores().forgotten()));
        }
    }
}
