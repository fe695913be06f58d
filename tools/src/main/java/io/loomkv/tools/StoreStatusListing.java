package io.loomkv.tools;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The lines of {@code ctl status}: one per (store, group it hosts a replica of), so a
 * single-group cluster still reads one line per store. Each store is first asked for its LAYOUT
 * (which groups it hosts, and whether each is quiet: read from published state, so asking does
 * not wake it), then for its STATUS of each hosted group (term and commit index, which only the
 * replica's own turn knows; that wakes a quiet group for one turn, hence the quiet column comes
 * from the LAYOUT asked first).
 */
final class StoreStatusListing {
    private static final String TEXT_FORMAT = "%-22s %-5s %-6s %-13s %-6s %-8s %-8s %-7s %s%n";

    private StoreStatusListing() {
    }

    /** A store's LAYOUT reply, or why there is none. */
    private record LayoutAnswer(LayoutReply reply, String error) {
    }

    /** Prints every address's lines; returns how many stores answered. */
    static int print(KvClient client, List<InetSocketAddress> addresses, boolean json, PrintStream out) {
        if (!json) {
            out.printf(TEXT_FORMAT, "ADDRESS", "STORE", "GROUP", "ROLE", "TERM", "COMMIT", "APPLIED", "LEADER", "QUIET");
        }
        // Every store's LAYOUT before any STATUS: a STATUS wakes a quiet leader, whose heartbeats wake its followers.
        Map<InetSocketAddress, LayoutAnswer> layouts = new LinkedHashMap<>();
        for (InetSocketAddress address : addresses) {
            try {
                layouts.put(address, new LayoutAnswer(client.layoutOf(address), null));
            } catch (RuntimeException e) {
                layouts.put(address, new LayoutAnswer(null, String.valueOf(e.getMessage())));
            }
        }
        int reachable = 0;
        for (Map.Entry<InetSocketAddress, LayoutAnswer> entry : layouts.entrySet()) {
            String where = MemberAddress.format(entry.getKey());
            String error = entry.getValue().error();
            if (error != null) {
                if (json) {
                    out.println("{\"address\":" + Json.quote(where) + ",\"error\":" + Json.quote(error) + "}");
                } else {
                    out.printf("%-22s %s%n", where, "unreachable (" + error + ")");
                }
                continue;
            }
            LayoutReply layout = entry.getValue().reply();
            reachable++;
            for (GroupView view : layout.getGroupsList()) {
                if (!"NONE".equals(view.getRole())) {
                    printGroup(client, entry.getKey(), where, layout.getStoreId(), view, json, out);
                }
            }
        }
        return reachable;
    }

    private static void printGroup(KvClient client, InetSocketAddress address, String where, long storeId, GroupView view,
            boolean json, PrintStream out) {
        NodeStatusReply status;
        try {
            status = view.getGroupId() == GroupIds.CONTROLLER_GROUP_ID ? client.controllerStatus(address)
                    : client.status(address, view.getGroupId());
        } catch (RuntimeException e) {
            // The LAYOUT's view still says role, leader and applied index; term and commit stay unknown.
            if (json) {
                out.println("{\"address\":" + Json.quote(where) + ",\"id\":" + storeId + ",\"group\":" + view.getGroupId()
                        + ",\"role\":" + Json.quote(view.getRole()) + ",\"applied\":" + view.getAppliedIndex() + ",\"leader\":"
                        + view.getLeaderId() + ",\"quiet\":" + view.getQuiet() + ",\"error\":" + Json.quote(String.valueOf(e.getMessage())) + "}");
            } else {
                out.printf(TEXT_FORMAT, where, storeId, view.getGroupId(), view.getRole(), "-", "-", view.getAppliedIndex(),
                        view.getLeaderId(), yesNo(view.getQuiet()));
            }
            return;
        }
        if (json) {
            out.println("{\"address\":" + Json.quote(where) + ",\"id\":" + status.getNodeId() + ",\"group\":" + view.getGroupId()
                    + ",\"role\":" + Json.quote(status.getRole()) + ",\"term\":" + status.getTerm() + ",\"commit\":"
                    + status.getCommitIndex() + ",\"applied\":" + status.getAppliedIndex() + ",\"leader\":" + status.getLeaderId()
                    + ",\"quiet\":" + view.getQuiet() + "}");
        } else {
            out.printf(TEXT_FORMAT, where, status.getNodeId(), view.getGroupId(), status.getRole(), status.getTerm(),
                    status.getCommitIndex(), status.getAppliedIndex(), status.getLeaderId(), yesNo(view.getQuiet()));
        }
    }

    private static String yesNo(boolean value) {
        return value ? "yes" : "no";
    }
}
