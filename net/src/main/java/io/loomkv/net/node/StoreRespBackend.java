package io.loomkv.net.node;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireResult;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.net.client.KeyTtl;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.resp.RespBackend;
import io.loomkv.net.resp.RespCluster;
import io.loomkv.net.resp.RespError;
import io.loomkv.net.rpc.RpcClient;
import com.google.protobuf.ByteString;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * The Redis-protocol backend of a store, which makes the store a Redis Cluster node: a command on a
 * key whose group this store leads runs on the local replica, through the same path as a KV request
 * from the native protocol ({@link StoreService#execute}), with no network hop; a key whose group
 * another store leads is answered {@code -MOVED <slot> <host>:<port>} naming that store's RESP
 * address; with no leader known, {@code -CLUSTERDOWN The cluster is down}. Writes are exactly-once
 * through a session per connection and group ({@link StoreRespConnection}).
 *
 * <p>This object holds what the connections share (routing, the peer directory, the cluster view
 * for {@code CLUSTER SLOTS|SHARDS|NODES}); {@link #forConnection} gives each connection its own.
 */
public final class StoreRespBackend implements RespBackend, RespCluster {
    static final String CLUSTER_DOWN = "CLUSTERDOWN The cluster is down";
    /** A retried write (outcome unknown after a leader change) waits this long between attempts. */
    private static final long RETRY_PAUSE_MILLIS = 100;
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(2);

    private final NodeConfig config;
    /** The store's live layout: the newest configuration it knows. */
    private final java.util.function.Supplier<SlotLayout> layout;
    private final StoreService service;
    private final LongFunction<Replica> replicas;
    private final Membership addresses;
    private final RespPeerDirectory directory;
    private final RpcClient rpc;
    private final String myId;
    private final StoreRespConnection shared;

    StoreRespBackend(NodeConfig config, java.util.function.Supplier<SlotLayout> layout, StoreService service, LongFunction<Replica> replicas,
            Membership addresses, RespPeerDirectory directory, RpcClient rpc) {
        this.config = config;
        this.layout = layout;
        this.service = service;
        this.replicas = replicas;
        this.addresses = addresses;
        this.directory = directory;
        this.rpc = rpc;
        this.myId = RespCluster.nodeId(config.clusterId(), config.nodeId());
        this.shared = new StoreRespConnection(this, () -> false);
    }

    // ---- what connections share ----

    long groupOf(int slot) {
        return layout.get().groupOf(slot);
    }

    SlotLayout layout() {
        return layout.get();
    }

    /** This store's replica of {@code groupId} if it serves (not removed or failed), else null. */
    Replica serving(long groupId) {
        Replica replica = replicas.apply(groupId);
        return replica == null || replica.state().unavailableReason() != null ? null : replica;
    }

    boolean leads(long groupId) {
        Replica replica = serving(groupId);
        return replica != null && replica.state().isLeader();
    }

    /** Runs a request on this store, as a native client's request would (validated, routed, tracked). */
    CompletableFuture<KvReply> local(KvRequest request) {
        return service.execute(request, null).toCompletableFuture();
    }

    /** The store leading {@code groupId} as far as this store knows (0: none known). */
    long leaderOf(long groupId) {
        Replica replica = serving(groupId);
        long leader = replica == null ? 0 : replica.state().leaderId();
        return leader != 0 ? leader : directory.leaderOf(groupId);
    }

    /**
     * Fails with {@code -MOVED <slot> <leader's RESP address>}, or {@code -CLUSTERDOWN} when no
     * other store is known to lead the group (or its RESP address is not known).
     */
    <T> CompletableFuture<T> redirect(int slot, long groupId, long leaderHint) {
        long leader = leaderHint != 0 ? leaderHint : leaderOf(groupId);
        if (leader == 0 || leader == config.nodeId()) {
            return CompletableFuture.failedFuture(new RespError(CLUSTER_DOWN));
        }
        return directory.lookUp(leader).thenCompose(address -> CompletableFuture.failedFuture(address.isPresent()
                ? new RespError("MOVED " + slot + " " + address.get())
                : new RespError(CLUSTER_DOWN + " (store " + leader + " leads slot " + slot + " but its RESP address is not known)")));
    }

    /** Opens a write session in {@code groupId} on this store (its leader). */
    CompletableFuture<Long> openSession(int slot, long groupId) {
        KvRequest open = KvRequest.newBuilder().setGroupId(groupId).setOpenSession(OpenSession.getDefaultInstance()).build();
        return local(open).thenCompose(reply -> switch (reply.getStatus()) {
            case OK -> CompletableFuture.completedFuture(reply.getOpenSession().getClientId());
            case NOT_LEADER -> redirect(slot, groupId, reply.getLeaderId());
            default -> CompletableFuture.failedFuture(failure(reply));
        });
    }

    /** Whether a store other than this one is known to lead {@code groupId} (or {@code leaderHint} names one). */
    boolean otherLeaderKnown(long groupId, long leaderHint) {
        long leader = leaderHint != 0 ? leaderHint : leaderOf(groupId);
        return leader != 0 && leader != config.nodeId();
    }

    /**
     * Until when a command whose group has no known leader waits for one before it is answered
     * {@code -CLUSTERDOWN}: two election timeouts, in which an election normally ends, so a client
     * sees the new leader rather than an error it would have to retry.
     */
    long leaderWaitUntilNanos() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2L * config.tickIntervalMillis() * config.electionTimeoutTicks());
    }

    /** How long a write may take, retries of an unknown outcome included. */
    long writeDeadlineNanos() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * config.requestTimeoutMillis());
    }

    /**
     * Proposes a numbered write. On this store while it leads; a first attempt that finds another
     * leader is answered {@code -MOVED} (nothing was proposed). Once an attempt's outcome is
     * unknown (its entry may have been lost in a leader change), or the leader could not take it
     * just now (a leadership transfer in progress, a full queue), the same numbered write is sent
     * again (here, or to the new leader's client address) until an answer is definite: the group's
     * session table applies it at most once.
     */
    CompletableFuture<KvReply> propose(KvRequest numbered, int slot, long groupId, long deadlineNanos, boolean inDoubt) {
        if (leads(groupId)) {
            return local(numbered).thenCompose(reply -> switch (reply.getStatus()) {
                case TIMEOUT, UNAVAILABLE -> retry(numbered, slot, groupId, deadlineNanos, reply.getMessage());
                case NOT_LEADER -> inDoubt ? retry(numbered, slot, groupId, deadlineNanos, reply.getMessage())
                        : redirect(slot, groupId, reply.getLeaderId());
                default -> CompletableFuture.completedFuture(reply);
            });
        }
        if (!inDoubt) {
            return redirect(slot, groupId, 0);
        }
        MemberAddress leader = addresses.get(leaderOf(groupId));
        if (leader == null) {
            return retry(numbered, slot, groupId, deadlineNanos, "no leader of group " + groupId + " known");
        }
        InetSocketAddress target = leader.clientAddress();
        CompletableFuture<KvReply> call;
        try {
            call = rpc.call(target, NodeMethods.KV, numbered, FORWARD_TIMEOUT);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((reply, failure) -> {
            if (failure != null) {
                return retry(numbered, slot, groupId, deadlineNanos, target + ": " + failure.getMessage());
            }
            return switch (reply.getStatus()) {
                case NOT_LEADER, UNAVAILABLE, TIMEOUT, WRONG_GROUP ->
                        retry(numbered, slot, groupId, deadlineNanos, target + ": " + reply.getMessage());
                default -> CompletableFuture.completedFuture(reply);
            };
        }).thenCompose(Function.identity());
    }

    private CompletableFuture<KvReply> retry(KvRequest numbered, int slot, long groupId, long deadlineNanos, String last) {
        if (System.nanoTime() - deadlineNanos >= 0) {
            return CompletableFuture.failedFuture(RespError.err("TIMEOUT: no definite outcome for a write to group "
                    + groupId + " within " + 2 * config.requestTimeoutMillis() + " ms (it may or may not have been "
                    + "applied); last: " + last));
        }
        return afterPause(() -> propose(numbered, slot, groupId, deadlineNanos, true));
    }

    /** Runs {@code step} after the pause between retries. */
    static <T> CompletableFuture<T> afterPause(java.util.function.Supplier<CompletableFuture<T>> step) {
        return CompletableFuture.supplyAsync(step, CompletableFuture.delayedExecutor(RETRY_PAUSE_MILLIS, TimeUnit.MILLISECONDS))
                .thenCompose(Function.identity());
    }

    /** The error for a reply that is not one of the outcomes a command expects. */
    static RuntimeException failure(KvReply reply) {
        return new KvClientException(reply.getStatus(), reply.getMessage(), false);
    }

    // ---- RespBackend: each connection its own; these serve callers without one ----

    @Override
    public RespBackend forConnection(BooleanSupplier readOnly) {
        return new StoreRespConnection(this, readOnly);
    }

    @Override
    public Optional<RespCluster> cluster() {
        return Optional.of(this);
    }

    @Override
    public CompletableFuture<Optional<ByteString>> get(ByteString key) {
        return shared.get(key);
    }

    @Override
    public CompletableFuture<Boolean> put(ByteString key, ByteString value, Expiry expiry) {
        return shared.put(key, value, expiry);
    }

    @Override
    public CompletableFuture<ExpireResult> expire(Expire expire) {
        return shared.expire(expire);
    }

    @Override
    public CompletableFuture<KeyTtl> ttl(ByteString key) {
        return shared.ttl(key);
    }

    @Override
    public CompletableFuture<Boolean> delete(ByteString key) {
        return shared.delete(key);
    }

    @Override
    public CompletableFuture<Long> append(ByteString key, ByteString value) {
        return shared.append(key, value);
    }

    @Override
    public CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue,
            Expiry expiry) {
        return shared.compareAndSet(key, expected, newValue, expiry);
    }

    @Override
    public CompletableFuture<List<Optional<ByteString>>> multiGet(List<ByteString> keys) {
        return shared.multiGet(keys);
    }

    @Override
    public CompletableFuture<Void> multiPut(SequencedMap<ByteString, ByteString> entries) {
        return shared.multiPut(entries);
    }

    @Override
    public CompletableFuture<ScanPage> scan(ByteString prefix, ByteString resumeAfter, int limit) {
        return shared.scan(prefix, resumeAfter, limit);
    }

    @Override
    public Map<String, String> clusterInfo() {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("mode", "store");
        info.put("store_id", Long.toString(config.nodeId()));
        SlotLayout current = layout.get();
        info.put("layout_version", Long.toString(current.version()));
        info.put("groups", Integer.toString(current.groups().size()));
        info.put("groups_led_here", Long.toString(current.groups().stream().filter(this::leads).count()));
        return info;
    }

    // ---- RespCluster ----

    @Override
    public String myId() {
        return myId;
    }

    @Override
    public CompletableFuture<View> view() {
        return directory.refresh().thenApply(ignored -> currentView());
    }

    /**
     * Every group as a shard: its master is the leader (when known and reachable over RESP), else one
     * of its replicas (which answers {@code -CLUSTERDOWN} until a leader is known), so every slot is
     * always covered and clients keep asking.
     */
    private View currentView() {
        Map<Long, Node> nodes = new TreeMap<>();
        InetSocketAddress self = MemberAddress.parseHostPort(StoreService.advertisedRespAddress(config));
        nodes.put(config.nodeId(), new Node(myId, self.getHostString(), self.getPort(), true, false));
        for (long peer : directory.peers()) {
            directory.respAddress(peer).ifPresent(address -> {
                InetSocketAddress parsed = MemberAddress.parseHostPort(address);
                nodes.put(peer, new Node(RespCluster.nodeId(config.clusterId(), peer), parsed.getHostString(),
                        parsed.getPort(), false, directory.unreachable(peer)));
            });
        }
        List<Shard> shards = new ArrayList<>();
        SlotLayout current = layout.get();
        for (long group : current.groups()) {
            List<SlotRange> ranges = current.slotsOf(group).ranges();
            if (ranges.isEmpty()) {
                continue;
            }
            List<Long> members = current.replicas(group);
            long leader = leaderOf(group);
            boolean leaderKnown = nodes.containsKey(leader);
            long master = leaderKnown ? leader
                    : members.contains(config.nodeId()) ? config.nodeId()
                    : members.stream().filter(nodes::containsKey).findFirst().orElse(config.nodeId());
            List<Node> followers = members.stream().filter(id -> id != master && nodes.containsKey(id))
                    .map(nodes::get).filter(node -> !node.failed()).toList();
            shards.add(new Shard(group, ranges, nodes.get(master), leaderKnown, followers));
        }
        shards.sort(Comparator.comparingInt(shard -> shard.ranges().get(0).first()));
        return new View(shards, List.copyOf(nodes.values()), current.version());
    }
}
