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
import io.loomkv.net.client.WriteSession;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
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
    /**
     * How long a command on a key whose slot is moving between groups (frozen at its old group, or
     * being pulled by its new one) waits for the slot to be served before it is answered
     * {@code -TRYAGAIN}. A Redis Cluster client never sees such a state from Redis (a key is always
     * either at the source or, with {@code -ASK}, at the target), and Jedis and Lettuce retry only
     * {@code -MOVED}, {@code -ASK} and lost connections, so the store waits instead of answering an
     * error. Below the 2 s socket timeout Jedis uses by default: a client that timed out would send
     * the command again on another connection while this one could still apply it.
     */
    static final long MOVE_WAIT_MILLIS = 1_500;
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
    /**
     * Idle write sessions of closed connections, per group, for the next connections to take over
     * (at most {@link #IDLE_SESSIONS_PER_GROUP} each). A client that connects for a few commands,
     * as redis-benchmark does per test and many web frameworks per request, would otherwise open a
     * new session, one more Raft write, in every group it writes to, every time.
     */
    private final ConcurrentHashMap<Long, ConcurrentLinkedQueue<WriteSession>> idleSessions = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sessionsTakenOver = new java.util.concurrent.atomic.AtomicLong();
    static final int IDLE_SESSIONS_PER_GROUP = 1024;

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

    /** A write session for a connection's first write to {@code group}: an idle one handed on, or a new one. */
    WriteSession takeSession(long group) {
        ConcurrentLinkedQueue<WriteSession> idle = idleSessions.get(group);
        WriteSession session = idle == null ? null : idle.poll();
        if (session != null) {
            sessionsTakenOver.incrementAndGet();
            return session;
        }
        return new WriteSession(StoreRespConnection.MAX_WRITES_IN_FLIGHT);
    }

    /**
     * A closed connection's session in {@code group}: kept for the next connection if it is idle
     * (open, every reply received, so the next user goes on from the next sequence and nothing is
     * applied twice); else dropped (the group forgets it when it expires).
     */
    void returnSession(long group, WriteSession session) {
        if (!session.idle()) {
            return;
        }
        ConcurrentLinkedQueue<WriteSession> idle = idleSessions.computeIfAbsent(group, g -> new ConcurrentLinkedQueue<>());
        // The size is approximate under concurrent returns; a few more than the bound do no harm.
        if (idle.size() < IDLE_SESSIONS_PER_GROUP) {
            idle.add(session);
        }
    }

    /** How many connections took over an idle session instead of opening one (tests, INFO). */
    long sessionsTakenOver() {
        return sessionsTakenOver.get();
    }

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

    /**
     * Opens a write session in {@code groupId} on this store (its leader). While the group cannot
     * take it just now (a leadership transfer, a full queue) or knows no leader, it is asked again
     * after a pause until {@code untilNanos}: an error here would reach a Redis Cluster client,
     * which does not retry it (StoreRespSlotMoveTest saw {@code -ERR UNAVAILABLE: proposal dropped:
     * leadership transfer ...} on a connection's first write). A session opened by an attempt whose
     * answer was lost is never used and expires.
     */
    CompletableFuture<Long> openSession(int slot, long groupId, Waits waits) {
        KvRequest open = KvRequest.newBuilder().setGroupId(groupId).setOpenSession(OpenSession.getDefaultInstance()).build();
        return local(open).thenCompose(reply -> {
            boolean again = !waits.leaderWaitOver();
            return switch (reply.getStatus()) {
                case OK -> CompletableFuture.completedFuture(reply.getOpenSession().getClientId());
                case NOT_LEADER -> !otherLeaderKnown(groupId, reply.getLeaderId()) && again
                        ? afterPause(() -> openSession(slot, groupId, waits)) : redirect(slot, groupId, reply.getLeaderId());
                case UNAVAILABLE, TIMEOUT -> again ? afterPause(() -> openSession(slot, groupId, waits))
                        : CompletableFuture.failedFuture(new RespError(CLUSTER_DOWN + " (" + reply.getMessage() + ")"));
                default -> CompletableFuture.failedFuture(failure(reply));
            };
        });
    }

    /**
     * Whether a store other than this one is known to lead {@code groupId} (or {@code leaderHint}
     * names one). A NOT_LEADER may name this store: a replica deposed within its current turn still
     * publishes itself as the leader for a moment; that is no leader to redirect to, but a wait.
     */
    boolean otherLeaderKnown(long groupId, long leaderHint) {
        long leader = leaderHint != 0 ? leaderHint : leaderOf(groupId);
        return leader != 0 && leader != config.nodeId();
    }

    /**
     * Until when a command whose group has no known leader waits for one before it is answered
     * {@code -CLUSTERDOWN}: two election timeouts, in which an election normally ends, so a client
     * sees the new leader rather than an error (Jedis and Lettuce do not retry -CLUSTERDOWN); and at
     * least as long as a command waits for a moving slot, since the wait is counted from the
     * command's start and a move may have used part of it (with short election timeouts on a loaded
     * machine, a client of StoreRespSlotMoveTest got -CLUSTERDOWN from a 400 ms wait).
     */
    long leaderWaitUntilNanos() {
        long electionsMillis = 2L * config.tickIntervalMillis() * config.electionTimeoutTicks();
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(electionsMillis, MOVE_WAIT_MILLIS));
    }

    /**
     * Until when one command keeps trying (System.nanoTime values, from the command's start): a
     * write's definite outcome or a read's answer, a leader to be known, a moving slot to be served.
     */
    record Waits(long deadlineNanos, long leaderNanos, long moveNanos) {
        boolean leaderWaitOver() {
            return System.nanoTime() - leaderNanos >= 0;
        }

        boolean moveWaitOver() {
            return System.nanoTime() - moveNanos >= 0;
        }

        boolean deadlinePassed() {
            return System.nanoTime() - deadlineNanos >= 0;
        }
    }

    /** The waits of a command starting now. */
    Waits waitsFromNow() {
        return new Waits(writeDeadlineNanos(), leaderWaitUntilNanos(),
                System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MOVE_WAIT_MILLIS));
    }

    /**
     * Whether {@code reply} refuses a key because its slot is not served by the group asked, which
     * happens only while slots move or layouts disagree about a move: WRONG_GROUP (from the group's
     * state machine, the slot frozen or not yet taken, or from a store whose layout names another
     * group), or the UNAVAILABLE of a slot being pulled, the only UNAVAILABLE that names its group
     * ({@code KvStateMachine.notServed}). Either way nothing was applied (such refusals are not
     * cached as a write's outcome), so the request may be sent again, to the slot's group then.
     */
    static boolean slotNotServed(KvReply reply) {
        return reply.getStatus() == Status.WRONG_GROUP
                || (reply.getStatus() == Status.UNAVAILABLE && reply.getGroupId() != 0);
    }

    /** The answer to a command whose slot still moved after {@link #MOVE_WAIT_MILLIS}: nothing was done, retry. */
    static RespError slotStillMoving(int slot, KvReply refusal) {
        return new RespError("TRYAGAIN Slot " + slot + " is being moved to another group and was not served within "
                + MOVE_WAIT_MILLIS + " ms; nothing was done, retry shortly (" + refusal.getStatus() + ": "
                + refusal.getMessage() + ")");
    }

    /**
     * Whether this store routes {@code groupId}'s keys by a configuration older than the one its
     * replica of that group has applied: its layout is about to move on (the driver refreshes it),
     * and a -MOVED computed from it now could name a store that sends the client straight back.
     */
    boolean layoutBehind(long groupId) {
        Replica replica = serving(groupId);
        return replica != null && replica.configNumber() > layout.get().version();
    }

    /** The numbered write addressed to the group {@code slot} belongs to now (it may have moved since the last attempt). */
    private KvRequest routedNow(KvRequest numbered, int slot) {
        long group = groupOf(slot);
        return group == numbered.getGroupId() ? numbered : numbered.toBuilder().setGroupId(group).build();
    }

    /** How long a write may take, retries of an unknown outcome included. */
    long writeDeadlineNanos() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * config.requestTimeoutMillis());
    }

    /**
     * Proposes a numbered write to the group it names. On this store while it leads; a first
     * attempt that finds another leader is answered {@code -MOVED} (nothing was proposed). Once an
     * attempt's outcome is unknown (its entry may have been lost in a leader change), or the leader
     * could not take it just now (a leadership transfer in progress, a full queue), the same
     * numbered write is sent again (here, or to the new leader's client address) until an answer is
     * definite: the group's session table applies it at most once. A refusal because the key's slot
     * moves applied nothing: the write waits and is routed again by the newest layout, with the same
     * session and sequence (so a new owner that imported the slot's replies answers a retry of a
     * write applied before the move from them), until the move wait is over; then, if no attempt is
     * in doubt, {@code -TRYAGAIN} (else on until a definite answer or the write deadline).
     */
    CompletableFuture<KvReply> propose(KvRequest numbered, int slot, Waits waits, boolean inDoubt) {
        long groupId = numbered.getGroupId();
        if (leads(groupId)) {
            return local(numbered).thenCompose(reply -> {
                if (slotNotServed(reply)) {
                    return slotMoving(numbered, slot, waits, inDoubt, reply);
                }
                return switch (reply.getStatus()) {
                    case TIMEOUT, UNAVAILABLE -> retry(numbered, slot, waits, reply.getMessage());
                    case NOT_LEADER -> inDoubt ? retry(numbered, slot, waits, reply.getMessage())
                            : notLeader(numbered, slot, waits, reply.getLeaderId());
                    default -> CompletableFuture.completedFuture(reply);
                };
            });
        }
        if (!inDoubt) {
            return notLeader(numbered, slot, waits, 0);
        }
        MemberAddress leader = addresses.get(leaderOf(groupId));
        if (leader == null) {
            return retry(numbered, slot, waits, "no leader of group " + groupId + " known");
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
                return retry(numbered, slot, waits, target + ": " + failure.getMessage());
            }
            return switch (reply.getStatus()) {
                case NOT_LEADER, UNAVAILABLE, TIMEOUT, WRONG_GROUP ->
                        retry(numbered, slot, waits, target + ": " + reply.getMessage());
                default -> CompletableFuture.completedFuture(reply);
            };
        }).thenCompose(Function.identity());
    }

    /**
     * A write not proposed because this store does not lead its group (nothing applied): -MOVED to
     * the leader; while this store's layout is behind its replica of the group (a slot move it does
     * not route by yet), or no other leader is known (an election, or a replica deposed this very
     * turn), the write is routed again after a pause, until the move or leader wait is over.
     */
    private CompletableFuture<KvReply> notLeader(KvRequest numbered, int slot, Waits waits, long leaderHint) {
        long groupId = numbered.getGroupId();
        boolean wait = layoutBehind(groupId) ? !waits.moveWaitOver()
                : !otherLeaderKnown(groupId, leaderHint) && !waits.leaderWaitOver();
        if (wait) {
            return afterPause(() -> propose(routedNow(numbered, slot), slot, waits, false));
        }
        return redirect(slot, groupId, leaderHint);
    }

    /** The write was refused because its slot moves (nothing applied): again after a pause, or -TRYAGAIN once the wait is over. */
    private CompletableFuture<KvReply> slotMoving(KvRequest numbered, int slot, Waits waits, boolean inDoubt, KvReply refusal) {
        if (!inDoubt && waits.moveWaitOver()) {
            return CompletableFuture.failedFuture(slotStillMoving(slot, refusal));
        }
        if (waits.deadlinePassed()) {
            return retry(numbered, slot, waits, refusal.getMessage());
        }
        return afterPause(() -> propose(routedNow(numbered, slot), slot, waits, inDoubt));
    }

    /** Sends a write whose outcome is unknown again, to its slot's group now, until the deadline. */
    private CompletableFuture<KvReply> retry(KvRequest numbered, int slot, Waits waits, String last) {
        if (waits.deadlinePassed()) {
            return CompletableFuture.failedFuture(RespError.err("TIMEOUT: no definite outcome for a write to group "
                    + numbered.getGroupId() + " within " + 2 * config.requestTimeoutMillis() + " ms (it may or may not "
                    + "have been applied); last: " + last));
        }
        return afterPause(() -> propose(routedNow(numbered, slot), slot, waits, true));
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
