package io.loomkv.net.client;

import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import io.loomkv.net.store.proto.StoreAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a {@link KvClient} knows of the cluster's shape: the slot layout (slots to groups, groups to
 * stores), the stores' client addresses, and the leader of each group as last seen. Requests go
 * straight to the leader of their key's group. The layout is fetched on first use and again when a
 * store says {@code WRONG_GROUP}; refreshes are single-flight (one fetch in flight, shared by every
 * request that needs it) and rate-limited (jedis#4556: a storm of refreshes after a topology change
 * is worse than the change), and leaders are learned from the layout reply and from
 * {@code NOT_LEADER} hints without a fetch.
 */
final class ClusterRouting {
    /** Two fetches of the layout are at least this far apart. */
    static final long MIN_REFRESH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** One fetched layout with the addresses of its stores, and the stores hosting the shard controller. */
    record View(SlotLayout layout, Map<Long, InetSocketAddress> stores, List<Long> controllerStores, long fetchedAtNanos) {
        /** The stores to try for {@code groupId} when its leader is not known. */
        List<Long> replicas(long groupId) {
            if (groupId == GroupIds.CONTROLLER_GROUP_ID) {
                return controllerStores;
            }
            return layout.hasGroup(groupId) ? layout.replicas(groupId) : List.of();
        }
    }

    private final KvClientConfig config;
    private final RpcClient rpc;
    private final ConcurrentHashMap<Long, Long> leaders = new ConcurrentHashMap<>();
    /** Client addresses from NOT_LEADER hints of stores the layout reply did not list (yet). */
    private final ConcurrentHashMap<Long, InetSocketAddress> hintedAddresses = new ConcurrentHashMap<>();
    private final AtomicInteger rotation = new AtomicInteger();
    private final ReentrantLock refreshLock = new ReentrantLock();
    private volatile View view;
    private CompletableFuture<View> refreshing; // guarded by refreshLock

    ClusterRouting(KvClientConfig config, RpcClient rpc) {
        this.config = config;
        this.rpc = rpc;
    }

    /** The layout known now, fetching it first if there is none yet. */
    CompletableFuture<View> view() {
        View known = view;
        return known != null ? CompletableFuture.completedFuture(known) : refresh(0);
    }

    /** The view known now, or null before the first fetch. */
    View current() {
        return view;
    }

    /**
     * Fetches the layout again, unless a fetch is in flight (then shares it), or the known layout
     * is already at {@code atLeastVersion} or was fetched less than {@link #MIN_REFRESH_INTERVAL_NANOS} ago.
     */
    CompletableFuture<View> refresh(long atLeastVersion) {
        refreshLock.lock();
        try {
            View known = view;
            if (refreshing != null) {
                return refreshing;
            }
            if (known != null && (atLeastVersion > 0 && known.layout().version() >= atLeastVersion
                    || System.nanoTime() - known.fetchedAtNanos() < MIN_REFRESH_INTERVAL_NANOS)) {
                return CompletableFuture.completedFuture(known);
            }
            // The view is published before the returned future completes: a caller's continuation
            // may run before any other callback of this fetch (CompletableFuture runs the
            // dependents of a future in no promised order), and it reads current().
            CompletableFuture<View> fetch = fetchFrom(candidates(), 0, "no server answered").thenApply(fetched -> {
                view = fetched;
                return fetched;
            });
            refreshing = fetch;
            fetch.whenComplete((fetched, failure) -> {
                refreshLock.lock();
                try {
                    refreshing = null;
                } finally {
                    refreshLock.unlock();
                }
            });
            return fetch;
        } finally {
            refreshLock.unlock();
        }
    }

    private List<InetSocketAddress> candidates() {
        LinkedHashSet<InetSocketAddress> addresses = new LinkedHashSet<>(config.servers());
        View known = view;
        if (known != null) {
            addresses.addAll(known.stores().values());
        }
        List<InetSocketAddress> list = new ArrayList<>(addresses);
        java.util.Collections.rotate(list, rotation.getAndIncrement() % Math.max(1, list.size()));
        return list;
    }

    private CompletableFuture<View> fetchFrom(List<InetSocketAddress> addresses, int index, String lastProblem) {
        if (index >= addresses.size()) {
            return CompletableFuture.failedFuture(new KvClientException(Status.UNAVAILABLE,
                    "could not fetch the cluster layout from " + addresses + ": " + lastProblem, false));
        }
        InetSocketAddress address = addresses.get(index);
        CompletableFuture<LayoutReply> call;
        try {
            call = rpc.call(address, NodeMethods.LAYOUT, LayoutRequest.getDefaultInstance(),
                    min(config.attemptTimeout(), Duration.ofSeconds(2)));
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((reply, failure) -> {
            if (failure != null) {
                return fetchFrom(addresses, index + 1, address + ": " + failure.getMessage());
            }
            try {
                return CompletableFuture.completedFuture(accept(reply));
            } catch (IllegalArgumentException e) {
                return fetchFrom(addresses, index + 1, address + " sent a bad layout: " + e.getMessage());
            }
        }).thenCompose(f -> f);
    }

    private View accept(LayoutReply reply) {
        SlotLayout layout = SlotLayout.fromProto(reply.getLayout());
        Map<Long, InetSocketAddress> stores = new HashMap<>();
        for (StoreAddress store : reply.getStoresList()) {
            stores.put(store.getStoreId(), MemberAddress.parseHostPort(store.getClientAddress()));
        }
        for (GroupView group : reply.getGroupsList()) {
            if (group.getLeaderId() != 0) {
                leaders.put(group.getGroupId(), group.getLeaderId());
            }
        }
        return new View(layout, Map.copyOf(stores), List.copyOf(reply.getControllerStoreIdsList()), System.nanoTime());
    }

    /** Where to send a request for {@code groupId}: its leader if known, else one of its replicas, else any server. */
    InetSocketAddress target(View known, long groupId) {
        Long leader = leaders.get(groupId);
        if (leader != null) {
            InetSocketAddress address = known.stores().get(leader);
            if (address == null) {
                address = hintedAddresses.get(leader);
            }
            if (address != null) {
                return address;
            }
        }
        List<Long> replicas = known.replicas(groupId);
        for (int i = 0; i < replicas.size(); i++) {
            InetSocketAddress address = known.stores().get(replicas.get(Math.floorMod(rotation.getAndIncrement(), replicas.size())));
            if (address != null) {
                return address;
            }
        }
        List<InetSocketAddress> servers = config.servers();
        return servers.get(Math.floorMod(rotation.getAndIncrement(), servers.size()));
    }

    /**
     * A follower of {@code groupId} for a read that may be stale: the group's replicas other than
     * the leader known now, taken in turn (round robin over all requests); null when no follower
     * with a known address is left (the group has one replica, or its others have no known address), so the caller
     * goes to {@link #target}. With the leader unknown every replica counts as a follower.
     */
    InetSocketAddress followerTarget(View known, long groupId) {
        Long leader = leaders.get(groupId);
        List<Long> followers = new ArrayList<>(known.replicas(groupId));
        if (leader != null) {
            followers.remove(leader);
        }
        followers.removeIf(store -> known.stores().get(store) == null);
        if (followers.isEmpty()) {
            return null;
        }
        return known.stores().get(followers.get(Math.floorMod(rotation.getAndIncrement(), followers.size())));
    }

    /** A NOT_LEADER hint, or a success from {@code storeId}: it leads {@code groupId}. */
    void leaderIs(long groupId, long storeId) {
        if (storeId > 0) {
            leaders.put(groupId, storeId);
        }
    }

    /** As {@link #leaderIs(long, long)}, remembering the hinted client address in case the layout does not list the store. */
    void leaderIs(long groupId, long storeId, InetSocketAddress address) {
        if (storeId > 0 && address != null) {
            hintedAddresses.put(storeId, address);
        }
        leaderIs(groupId, storeId);
    }

    /**
     * The leader we knew of {@code groupId} did not answer as one. Its address is the one
     * {@link #target} used: the layout's, or a hint's for a store the layout does not list (one a
     * membership change added); forgetting only layout addresses kept a dead hinted leader cached,
     * and every retry went to it until the deadline (./loomkv chaos --groups 8 found it).
     */
    void forgetLeader(long groupId, InetSocketAddress failed) {
        Long leader = leaders.get(groupId);
        if (leader == null) {
            return;
        }
        View known = view;
        InetSocketAddress address = known == null ? null : known.stores().get(leader);
        if (address == null) {
            address = hintedAddresses.get(leader);
        }
        if (failed.equals(address)) {
            leaders.remove(groupId, leader);
        }
    }

    /** The store at {@code address}, or 0 when it is not a known store. */
    long storeAt(View known, InetSocketAddress address) {
        for (Map.Entry<Long, InetSocketAddress> entry : known.stores().entrySet()) {
            if (entry.getValue().equals(address)) {
                return entry.getKey();
            }
        }
        return 0;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
