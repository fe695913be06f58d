package io.loomkv.tools;

import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.StoreAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the stores of a cluster say about its data groups, from one round of {@code LAYOUT}
 * replies: the slot layout, the stores' client addresses, and for every group its leader and
 * applied index. A LAYOUT reply is read from each replica's published state, so asking does not
 * wake a quiet group (a {@code STATUS} does: it runs in the replica's turn).
 *
 * <p><b>Who leads.</b> A group's leader is a store that says so of itself. Two stores may say so
 * at once (a deposed leader that has not heard of the new term yet, e.g. one that woke from a
 * pause cut off); the reply carries no term to tell them apart, so the claimant that the most
 * stores name as the group's leader wins, and a tie leaves the leader unknown (0). A store that
 * did not answer leads nothing here, even when its followers still name it.
 */
public final class GroupTable {
    /**
     * One group as the answering stores see it.
     *
     * @param replicas the stores the layout places the group on (membership changes since are
     *     not in the layout: the leader's {@code STATUS} lists the current voters and learners)
     * @param leaderId the leading store, 0 when unknown
     * @param appliedIndex the leader's applied index, or the highest any store reported without a leader
     */
    public record Group(long id, SlotSet slots, List<Long> replicas, long leaderId, long appliedIndex) {
    }

    private final SlotLayout layout;
    private final Map<Long, InetSocketAddress> storeAddresses;
    private final Set<Long> answeredStores;
    private final Map<Long, Group> groups;
    /** Whether any answering store hosts the shard controller (group 0), and its leader (0 when unknown). */
    private final boolean controllerSeen;
    private final long controllerLeaderId;

    private GroupTable(SlotLayout layout, Map<Long, InetSocketAddress> storeAddresses, Set<Long> answeredStores,
            Map<Long, Group> groups, boolean controllerSeen, long controllerLeaderId) {
        this.layout = layout;
        this.storeAddresses = storeAddresses;
        this.answeredStores = answeredStores;
        this.groups = groups;
        this.controllerSeen = controllerSeen;
        this.controllerLeaderId = controllerLeaderId;
    }

    /**
     * The table from the stores' replies (at least one; one per store). The layout is the newest
     * one among them; views of groups it does not have are ignored.
     *
     * @throws IllegalArgumentException when there is no reply or a reply's layout is malformed
     */
    public static GroupTable of(Collection<LayoutReply> replies) {
        if (replies.isEmpty()) {
            throw new IllegalArgumentException("no store answered");
        }
        LayoutReply newest = replies.stream().max(Comparator.comparingLong(r -> r.getLayout().getVersion())).orElseThrow();
        SlotLayout layout = SlotLayout.fromProto(newest.getLayout());
        Map<Long, InetSocketAddress> addresses = new TreeMap<>();
        Set<Long> answered = new LinkedHashSet<>();
        Map<Long, List<StoreView>> viewsByGroup = new HashMap<>();
        for (LayoutReply reply : replies) {
            answered.add(reply.getStoreId());
            for (StoreAddress store : reply.getStoresList()) {
                addresses.putIfAbsent(store.getStoreId(), MemberAddress.parseHostPort(store.getClientAddress()));
            }
            for (GroupView view : reply.getGroupsList()) {
                viewsByGroup.computeIfAbsent(view.getGroupId(), g -> new ArrayList<>()).add(new StoreView(reply.getStoreId(), view));
            }
        }
        Map<Long, Group> groups = new TreeMap<>();
        for (long group : layout.groups()) {
            List<StoreView> views = viewsByGroup.getOrDefault(group, List.of());
            long leader = leaderOf(views);
            long applied = views.stream().filter(v -> leader == 0 || v.storeId() == leader)
                    .mapToLong(v -> v.view().getAppliedIndex()).max().orElse(0);
            groups.put(group, new Group(group, layout.slotsOf(group), layout.replicas(group), leader, applied));
        }
        List<StoreView> controller = viewsByGroup.getOrDefault(GroupIds.CONTROLLER_GROUP_ID, List.of());
        return new GroupTable(layout, Map.copyOf(addresses), Set.copyOf(answered), groups, !controller.isEmpty(),
                leaderOf(controller));
    }

    /**
     * Asks every store in {@code seeds}, then every further store their replies list, for its
     * LAYOUT; empty when none answers. A store that does not answer within the client's attempt
     * timeout is left out.
     */
    public static Optional<GroupTable> gather(KvClient client, Collection<InetSocketAddress> seeds) {
        List<LayoutReply> replies = new ArrayList<>();
        Set<InetSocketAddress> asked = new LinkedHashSet<>();
        List<InetSocketAddress> toAsk = new ArrayList<>(seeds);
        for (int i = 0; i < toAsk.size(); i++) {
            InetSocketAddress address = toAsk.get(i);
            if (!asked.add(address)) {
                continue;
            }
            try {
                LayoutReply reply = client.layoutOf(address);
                replies.add(reply);
                for (StoreAddress store : reply.getStoresList()) {
                    try {
                        toAsk.add(MemberAddress.parseHostPort(store.getClientAddress()));
                    } catch (IllegalArgumentException malformed) {
                        // A store listed without a usable address cannot be asked.
                    }
                }
            } catch (RuntimeException unreachable) {
                // Down, paused or partitioned: it leads nothing in this table.
            }
        }
        return replies.isEmpty() ? Optional.empty() : Optional.of(of(replies));
    }

    private record StoreView(long storeId, GroupView view) {
    }

    /** See the class comment: a claimant, the one most views name when several claim. */
    private static long leaderOf(List<StoreView> views) {
        List<Long> claimants = views.stream().filter(v -> "LEADER".equals(v.view().getRole())).map(StoreView::storeId)
                .distinct().toList();
        if (claimants.size() <= 1) {
            return claimants.isEmpty() ? 0 : claimants.get(0);
        }
        long best = 0;
        long bestVotes = -1;
        boolean tie = false;
        for (long claimant : claimants) {
            long votes = views.stream().filter(v -> v.view().getLeaderId() == claimant).count();
            if (votes > bestVotes) {
                best = claimant;
                bestVotes = votes;
                tie = false;
            } else if (votes == bestVotes) {
                tie = true;
            }
        }
        return tie ? 0 : best;
    }

    public SlotLayout layout() {
        return layout;
    }

    /** Every group of the layout, ascending. */
    public List<Group> groups() {
        return List.copyOf(groups.values());
    }

    public Group group(long groupId) {
        Group group = groups.get(groupId);
        if (group == null) {
            throw new IllegalArgumentException("group " + groupId + " is not in layout " + layout.version());
        }
        return group;
    }

    /** The client address of a store the replies listed, or null. */
    public InetSocketAddress storeAddress(long storeId) {
        return storeAddresses.get(storeId);
    }

    /** Every store the replies listed, ascending by id. */
    public Map<Long, InetSocketAddress> storeAddresses() {
        return new TreeMap<>(storeAddresses);
    }

    /** The stores that answered this round. */
    public Set<Long> answeredStores() {
        return answeredStores;
    }

    /** Whether an answering store hosts the shard controller and none of them is known to lead it. */
    public boolean controllerLeaderless() {
        return controllerSeen && controllerLeaderId == 0;
    }

    /** Groups with no known leader, ascending. */
    public List<Long> leaderless() {
        return groups.values().stream().filter(g -> g.leaderId() == 0).map(Group::id).toList();
    }

    /** The groups each store leads, stores ascending; a store leading none is absent. */
    public Map<Long, List<Long>> groupsByLeader() {
        Map<Long, List<Long>> byLeader = new TreeMap<>();
        for (Group group : groups.values()) {
            if (group.leaderId() != 0) {
                byLeader.computeIfAbsent(group.leaderId(), s -> new ArrayList<>()).add(group.id());
            }
        }
        return byLeader;
    }

    /** The store leading the most groups (the lowest id among equals), or empty when no group has a leader. */
    public OptionalLong busiestLeader() {
        long best = 0;
        int most = 0;
        for (Map.Entry<Long, List<Long>> entry : groupsByLeader().entrySet()) {
            if (entry.getValue().size() > most) {
                best = entry.getKey();
                most = entry.getValue().size();
            }
        }
        return most == 0 ? OptionalLong.empty() : OptionalLong.of(best);
    }
}
