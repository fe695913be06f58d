package io.loomkv.tools;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The table of {@code ctl groups} (also printed by {@code cluster up} and {@code demo}): per group
 * its slots, replica stores, leader, term and applied index. Leaders come from the stores'
 * LAYOUT replies ({@link GroupTable}); the replicas, term and applied index of a group with a
 * known leader come from that leader's STATUS of the group, since only the leader's view is
 * current after a membership change or a new term. Without a leader the layout's replicas and
 * the highest applied index any store reported are shown.
 */
final class GroupListing {
    private GroupListing() {
    }

    /** One group's line as printed. */
    record Line(long group, String slots, List<Long> voters, List<Long> learners, long leaderId, long term, long appliedIndex) {
        String replicasText() {
            List<String> parts = new ArrayList<>();
            voters.forEach(v -> parts.add(Long.toString(v)));
            learners.forEach(l -> parts.add(l + "(learner)"));
            return String.join(",", parts);
        }

        String json() {
            return "{\"group\":" + group + ",\"slots\":" + Json.quote(slots) + ",\"replicas\":" + jsonArray(voters)
                    + ",\"learners\":" + jsonArray(learners) + ",\"leader\":" + leaderId + ",\"term\":" + term
                    + ",\"applied\":" + appliedIndex + "}";
        }

        private static String jsonArray(List<Long> ids) {
            return ids.stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
        }
    }

    /** The lines, asking each group's leader for its STATUS of the group (one RPC per led group). */
    static List<Line> lines(KvClient client, GroupTable table) {
        List<Line> lines = new ArrayList<>();
        for (GroupTable.Group group : table.groups()) {
            String slots = CompactRanges.slots(group.slots());
            InetSocketAddress leader = group.leaderId() == 0 ? null : table.storeAddress(group.leaderId());
            NodeStatusReply status = null;
            if (leader != null) {
                try {
                    status = client.status(leader, group.id());
                } catch (RuntimeException e) {
                    // Gone since its LAYOUT reply: show what the layout says.
                }
            }
            GroupView detail = status == null ? null : detailOf(status, group.id());
            if (detail == null) {
                lines.add(new Line(group.id(), slots, group.replicas(), List.of(), group.leaderId(), 0, group.appliedIndex()));
            } else {
                lines.add(new Line(group.id(), slots, detail.getVotersList().stream().sorted().toList(),
                        detail.getLearnersList().stream().sorted().toList(), group.leaderId(), detail.getTerm(), detail.getAppliedIndex()));
            }
        }
        return lines;
    }

    private static GroupView detailOf(NodeStatusReply status, long groupId) {
        for (GroupView view : status.getGroupsList()) {
            if (view.getGroupId() == groupId) {
                return view;
            }
        }
        return null;
    }

    static void print(List<Line> lines, GroupTable table, boolean json, PrintStream out) {
        if (json) {
            lines.forEach(line -> out.println(line.json()));
            return;
        }
        int slotsWidth = Math.max(12, lines.stream().mapToInt(l -> l.slots().length()).max().orElse(0));
        int replicasWidth = Math.max(10, lines.stream().mapToInt(l -> l.replicasText().length()).max().orElse(0));
        String format = "%-6s %-" + slotsWidth + "s %-" + replicasWidth + "s %-8s %-6s %s%n";
        out.printf(format, "GROUP", "SLOTS", "REPLICAS", "LEADER", "TERM", "APPLIED");
        for (Line line : lines) {
            out.printf(format, line.group(), line.slots(), line.replicasText(), line.leaderId() == 0 ? "unknown" : line.leaderId(),
                    line.term() == 0 ? "-" : line.term(), line.appliedIndex());
        }
        List<Long> leaderless = table.leaderless();
        out.println("(" + lines.size() + (lines.size() == 1 ? " group" : " groups") + " on " + table.storeAddresses().size()
                + " stores, " + table.answeredStores().size() + " answered; "
                + (leaderless.isEmpty() ? "every group has a leader)" : "no leader known for groups " + CompactRanges.ids(leaderless) + ")"));
    }
}
