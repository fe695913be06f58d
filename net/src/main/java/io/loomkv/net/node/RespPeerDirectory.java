package io.loomkv.net.node;

import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What a store's RESP endpoint knows of the other stores: their RESP addresses and which groups
 * they lead, learnt by asking each for its layout ({@code LAYOUT} on its client address, whose
 * reply carries the store's {@code resp_address}). A store's RESP address is its own setting, not
 * part of the membership, so this is how a store can answer {@code -MOVED} with the leader's
 * RESP address. Answers are cached; one older than {@link #FRESH_NANOS} is asked again (one call
 * per store at a time), and a store that does not answer keeps its last answer.
 */
final class RespPeerDirectory {
    /** How long an answer counts as fresh: leaders change on a failure, so not long. */
    static final long FRESH_NANOS = Duration.ofMillis(500).toNanos();
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(1);

    /** One store's answer: its RESP address ("" when it has none) and the groups it leads. */
    private record Answer(String respAddress, List<Long> ledGroups, long receivedNanos) {}

    private final long selfId;
    private final Membership addresses;
    private final RpcClient rpc;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<Long, Answer> answers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> asking = new ConcurrentHashMap<>();
    /** Stores whose last call failed (down or unreachable), until one answers again. */
    private final java.util.Set<Long> unreachable = ConcurrentHashMap.newKeySet();

    RespPeerDirectory(long selfId, Membership addresses, RpcClient rpc, LongSupplier nanoClock) {
        this.selfId = selfId;
        this.addresses = addresses;
        this.rpc = rpc;
        this.nanoClock = nanoClock;
    }

    /** The peers (every member but this store). */
    List<Long> peers() {
        List<Long> peers = new ArrayList<>();
        for (long id : addresses.ids()) {
            if (id != selfId) {
                peers.add(id);
            }
        }
        return peers;
    }

    /** The last RESP address {@code storeId} told (empty: not known, or it has none). */
    Optional<String> respAddress(long storeId) {
        Answer answer = answers.get(storeId);
        return answer == null || answer.respAddress().isEmpty() ? Optional.empty() : Optional.of(answer.respAddress());
    }

    /** The RESP address of {@code storeId}, asking it first when it is not known yet. */
    CompletableFuture<Optional<String>> lookUp(long storeId) {
        Optional<String> known = respAddress(storeId);
        if (known.isPresent()) {
            refreshIfStale(storeId);
            return CompletableFuture.completedFuture(known);
        }
        return ask(storeId).thenApply(ignored -> respAddress(storeId));
    }

    /** Whether the last call to {@code storeId} failed: Redis Cluster would flag it {@code fail}. */
    boolean unreachable(long storeId) {
        return unreachable.contains(storeId);
    }

    /** A peer that said it leads {@code groupId} in its freshest answer (0: none did). */
    long leaderOf(long groupId) {
        long leader = 0;
        long newest = Long.MIN_VALUE;
        for (var entry : answers.entrySet()) {
            Answer answer = entry.getValue();
            if (answer.ledGroups().contains(groupId) && answer.receivedNanos() - newest > 0) {
                leader = entry.getKey();
                newest = answer.receivedNanos();
            }
        }
        return leader;
    }

    /** Asks every peer whose answer is stale; completes when all have answered or failed. */
    CompletableFuture<Void> refresh() {
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (long peer : peers()) {
            calls.add(refreshIfStale(peer));
        }
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
    }

    private CompletableFuture<Void> refreshIfStale(long storeId) {
        Answer answer = answers.get(storeId);
        if (answer != null && nanoClock.getAsLong() - answer.receivedNanos() < FRESH_NANOS) {
            return CompletableFuture.completedFuture(null);
        }
        return ask(storeId);
    }

    /** One LAYOUT call to {@code storeId} at a time; never fails (a failure keeps the last answer). */
    private CompletableFuture<Void> ask(long storeId) {
        MemberAddress address = addresses.get(storeId);
        if (address == null || storeId == selfId) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = asking.putIfAbsent(storeId, mine);
        if (running != null) {
            return running;
        }
        CompletableFuture<LayoutReply> call;
        try {
            call = rpc.call(address.clientAddress(), NodeMethods.LAYOUT, LayoutRequest.getDefaultInstance(), CALL_TIMEOUT);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        call.whenComplete((reply, failure) -> {
            if (reply != null && reply.getStoreId() == storeId) {
                answers.put(storeId, new Answer(reply.getRespAddress(), led(reply), nanoClock.getAsLong()));
                unreachable.remove(storeId);
            } else {
                unreachable.add(storeId);
            }
            asking.remove(storeId, mine);
            mine.complete(null);
        });
        return mine;
    }

    private static List<Long> led(LayoutReply reply) {
        List<Long> groups = new ArrayList<>();
        for (GroupView view : reply.getGroupsList()) {
            if (view.getRole().equals("LEADER")) {
                groups.add(view.getGroupId());
            }
        }
        return List.copyOf(groups);
    }
}
