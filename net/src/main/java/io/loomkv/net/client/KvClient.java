package io.loomkv.net.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.loomkv.core.kv.Deadlines;
import io.loomkv.core.kv.KvCommands;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireResult;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGet;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.QueryConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberChangeRequest;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.node.proto.TransferLeaderRequest;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcMethod;
import io.loomkv.net.store.proto.GroupSnapshotReply;
import io.loomkv.net.store.proto.GroupSnapshotRequest;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import io.loomkv.net.store.proto.StoreReportsReply;
import io.loomkv.net.store.proto.StoreReportsRequest;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The loomkv Java client: thread-safe, with a sync API (methods named after the operation) and an
 * async one ({@link #executeAsync}). It is slot-aware: it fetches the cluster's layout (slots to
 * groups, groups to stores), sends each request straight to the leader of its key's group, learns
 * leaders from the layout and from NOT_LEADER hints, refreshes the layout (single-flight,
 * rate-limited) when a store answers WRONG_GROUP, retries with jittered backoff until the
 * operation's deadline, and never reports a success it did not get: a write whose deadline passes
 * without an answer fails with {@link KvClientException#outcomeUnknown()}.
 *
 * <p>Writes are exactly-once through server-side sessions, one per group the client writes to:
 * the client opens a group's session on its first write there, numbers its writes, and resends a
 * retried write with the same sequence number, so the group applies it once and returns the
 * cached reply to the copy.
 *
 * <p><b>Multi-key operations and atomicity.</b> {@link #multiGet}, {@link #multiPut} and
 * {@link #scan} accept keys of any groups: the client splits them per group and merges the
 * results (multi-get in request order, scans in key order with a continuation). A multi-put is
 * atomic <em>within each group only</em>: if it spans groups, some groups may apply their part
 * while another fails. Keys that share a hash tag (the part between the first {@code {} and the
 * next {@code }}, e.g. {@code user:{42}:name} and {@code user:{42}:email}) always hash to one slot
 * and so one group: a multi-put of such keys is atomic. A multi-get across groups reads each
 * group linearizably, not all of them at one instant.
 *
 * <p>Reads go to the leader. With {@link KvClientConfig#serializableReadsOnFollowers()} a
 * SERIALIZABLE read (which allows a stale answer) goes first to a follower of its group, the
 * followers in turn, and its retries to the leader (the routing proxy spreads reads this way).
 *
 * <p>Over 600 lines: the retry loop, sessions and routing are shared by the KV calls, the shard
 * controller's calls and the admin calls; the admin calls are the part to move out next.
 */
public final class KvClient implements AutoCloseable {
    /** The message of the AdminReply a non-leader sends (with the leader hint). */
    private static final String NOT_LEADER_MESSAGE = "not the leader";
    /** NOT_LEADER hints followed at once before backing off. */
    private static final int MAX_IMMEDIATE_REDIRECTS = 4;

    /** How many times a multi-get or multi-put is split again when slots moved under it. */
    private static final int MULTI_SPLITS = 8;

    /**
     * One connection to each store, as etcd's and gRPC's clients have: every request this client
     * has in flight to a store shares it, so one socket read or write on either side carries
     * several of them. Each extra connection splits that batching: a store's reader pays a read,
     * a failed read, an epoll registration and a wake-up per burst, whatever the burst holds
     * (the bench's 8 clients on 16 groups: 5.1 store syscalls per operation with two connections
     * per store, 3.2 with one; docs/performance.md).
     */
    public static final int CONNECTIONS_PER_STORE = 1;
    /** What two connections allowed together, so an async caller meets OVERLOADED no sooner than before. */
    public static final int MAX_IN_FLIGHT_PER_STORE = 2 * RpcClientConfig.DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;

    private final KvClientConfig config;
    private final RpcClient rpc;
    private final ClusterRouting routing;
    private final ConcurrentHashMap<Long, WriteSession> sessions = new ConcurrentHashMap<>();

    public KvClient(KvClientConfig config) {
        this.config = config;
        this.rpc = new RpcClient(RpcClientConfig.client(config.clusterId()).withTls(config.tls())
                .withConnectionsPerEndpoint(CONNECTIONS_PER_STORE).withMaxInFlightPerConnection(MAX_IN_FLIGHT_PER_STORE));
        this.routing = new ClusterRouting(config, rpc);
    }

    // ---- sync API ----

    /** The value of {@code key}, or empty when it does not exist (linearizable read). */
    public Optional<ByteString> get(ByteString key) {
        return get(key, ReadConsistency.LINEARIZABLE);
    }

    public Optional<ByteString> get(ByteString key, ReadConsistency consistency) {
        KvReply reply = await(executeAsync(KvRequest.newBuilder().setConsistency(consistency)
                .setGet(Get.newBuilder().setKey(key)).build()));
        if (reply.getStatus() == Status.NOT_FOUND) {
            return Optional.empty();
        }
        expectOk(reply);
        return Optional.of(reply.getGet().getValue());
    }

    /** Sets {@code key}; returns whether it existed before. */
    public boolean put(ByteString key, ByteString value) {
        return expectOk(await(executeAsync(KvRequest.newBuilder()
                .setPut(Put.newBuilder().setKey(key).setValue(value)).build()))).getPut().getExisted();
    }

    /**
     * Sets {@code key} with a time to live: it expires {@code ttl} (at least 1 ms) after the leader
     * applies the write, whatever happens to the cluster meanwhile. Returns whether it existed.
     */
    public boolean put(ByteString key, ByteString value, Duration ttl) {
        return expectOk(await(executeAsync(KvRequest.newBuilder().setPut(Put.newBuilder().setKey(key).setValue(value)
                .setExpiry(Expiry.newBuilder().setTtlMillis(ttlMillis(ttl)))).build()))).getPut().getExisted();
    }

    /**
     * Gives an existing key a time to live of {@code ttl} from now (replacing any it had); returns
     * false, changing nothing, when the key does not exist.
     */
    public boolean expire(ByteString key, Duration ttl) {
        return expire(Expire.newBuilder().setKey(key).setTtlMillis(ttlMillis(ttl)).build()).getExisted();
    }

    /** Removes {@code key}'s time to live; returns whether it had one (false also when it does not exist). */
    public boolean persist(ByteString key) {
        return expire(Expire.newBuilder().setKey(key).setPersist(true).build()).getChanged();
    }

    /** Sets, moves or removes a key's deadline (see {@link Expire}). */
    public ExpireResult expire(Expire expire) {
        return expectOk(await(executeAsync(KvRequest.newBuilder().setExpire(expire).build()))).getExpire();
    }

    /** {@code key}'s time to live, linearizable; {@link KeyTtl#absent()} when it does not exist. */
    public KeyTtl ttl(ByteString key) {
        KvReply reply = await(executeAsync(KvRequest.newBuilder().setConsistency(ReadConsistency.LINEARIZABLE)
                .setGet(Get.newBuilder().setKey(key).setWithoutValue(true)).build()));
        if (reply.getStatus() == Status.NOT_FOUND) {
            return KeyTtl.absent();
        }
        return KeyTtl.of(expectOk(reply).getGet());
    }

    private static long ttlMillis(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(Duration.ofMillis(Deadlines.MAX_TTL_MILLIS)) > 0) {
            throw new IllegalArgumentException("a time to live is 1 ms to " + Deadlines.MAX_TTL_MILLIS + " ms, got " + ttl);
        }
        return Math.max(1, ttl.toMillis());
    }

    /** Appends to {@code key}'s value; returns the new length. */
    public long append(ByteString key, ByteString value) {
        return expectOk(await(executeAsync(KvRequest.newBuilder()
                .setAppend(Append.newBuilder().setKey(key).setValue(value)).build()))).getAppend().getNewLengthBytes();
    }

    /** Deletes {@code key}; returns whether it existed. */
    public boolean delete(ByteString key) {
        return expectOk(await(executeAsync(KvRequest.newBuilder()
                .setDelete(Delete.newBuilder().setKey(key)).build()))).getDelete().getExisted();
    }

    /**
     * Sets {@code key} to {@code newValue} if its value is {@code expected} (or, with
     * {@code expected} empty, if it does not exist); returns whether it swapped.
     */
    public boolean compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue) {
        CompareAndSet.Builder cas = CompareAndSet.newBuilder().setKey(key).setNewValue(newValue);
        expected.ifPresentOrElse(cas::setExpectedValue, () -> cas.setExpectAbsent(true));
        KvReply reply = await(executeAsync(KvRequest.newBuilder().setCompareAndSet(cas).build()));
        if (reply.getStatus() == Status.CAS_FAILED) {
            return false;
        }
        return expectOk(reply).getCompareAndSet().getSwapped();
    }

    /**
     * Writes all pairs: atomically within each group, one request per group (see the class
     * comment). Throws when any group's part failed; other groups' parts may have been applied.
     */
    public void multiPut(Map<ByteString, ByteString> entries) {
        await(multiPutAsync(entries));
    }

    public CompletableFuture<Void> multiPutAsync(Map<ByteString, ByteString> entries) {
        return multiPutAsync(entries, MULTI_SPLITS);
    }

    /**
     * A multi-put split by the current layout. A part whose keys' slots moved to several groups
     * before any copy of it could be applied is refused as a whole (see {@link WriteDoubt}); its
     * entries are then split again by the refreshed layout, up to {@code splitsLeft} more times.
     */
    private CompletableFuture<Void> multiPutAsync(Map<ByteString, ByteString> entries, int splitsLeft) {
        return view().thenCompose(view -> {
            Map<Long, MultiPut.Builder> byGroup = new LinkedHashMap<>();
            entries.forEach((k, v) -> byGroup.computeIfAbsent(groupOf(view.layout(), k), g -> MultiPut.newBuilder())
                    .addEntries(KeyValue.newBuilder().setKey(k).setValue(v)));
            if (byGroup.isEmpty()) {
                byGroup.put(view.layout().groupOf(0), MultiPut.newBuilder());
            }
            List<CompletableFuture<KvReply>> parts = new ArrayList<>();
            byGroup.forEach((group, multi) -> parts.add(executeAsync(KvRequest.newBuilder().setGroupId(group)
                    .setMultiPut(multi).build()).thenApply(KvClient::expectOk).exceptionallyCompose(failure -> {
                        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
                        if (splitsLeft > 0 && cause instanceof KvClientException refused && refused.status() == Status.WRONG_GROUP
                                && !refused.outcomeUnknown()) {
                            Map<ByteString, ByteString> part = new LinkedHashMap<>();
                            multi.getEntriesList().forEach(entry -> part.put(entry.getKey(), entry.getValue()));
                            return multiPutAsync(part, splitsLeft - 1).<KvReply>thenApply(done -> null);
                        }
                        return CompletableFuture.failedFuture(cause);
                    })));
            return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new));
        });
    }

    /** Reads several keys: each group's keys at one point in time; results in request order. */
    public MultiGetResult multiGet(List<ByteString> keys) {
        return await(multiGetAsync(keys, ReadConsistency.LINEARIZABLE));
    }

    public CompletableFuture<MultiGetResult> multiGetAsync(List<ByteString> keys, ReadConsistency consistency) {
        return multiGetAsync(keys, consistency, MULTI_SPLITS);
    }

    /**
     * A multi-get split by the current layout; when slots moved under it (a part's keys now span
     * groups, answered WRONG_GROUP at once) the keys are split again by the refreshed layout, up to
     * {@code splitsLeft} more times.
     */
    private CompletableFuture<MultiGetResult> multiGetAsync(List<ByteString> keys, ReadConsistency consistency, int splitsLeft) {
        return multiGetOnce(keys, consistency).exceptionallyCompose(failure -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (splitsLeft > 0 && cause instanceof KvClientException refused && refused.status() == Status.WRONG_GROUP) {
                return multiGetAsync(keys, consistency, splitsLeft - 1);
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    private CompletableFuture<MultiGetResult> multiGetOnce(List<ByteString> keys, ReadConsistency consistency) {
        return view().thenCompose(view -> {
            Map<Long, List<Integer>> positions = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                positions.computeIfAbsent(groupOf(view.layout(), keys.get(i)), g -> new ArrayList<>()).add(i);
            }
            if (positions.isEmpty()) {
                return CompletableFuture.completedFuture(MultiGetResult.getDefaultInstance());
            }
            List<CompletableFuture<MultiGetResult>> parts = new ArrayList<>();
            List<List<Integer>> order = new ArrayList<>();
            positions.forEach((group, indexes) -> {
                MultiGet.Builder multi = MultiGet.newBuilder();
                indexes.forEach(i -> multi.addKeys(keys.get(i)));
                order.add(indexes);
                parts.add(executeAsync(KvRequest.newBuilder().setGroupId(group).setConsistency(consistency)
                        .setMultiGet(multi).build()).thenApply(reply -> expectOk(reply).getMultiGet()));
            });
            return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> {
                io.loomkv.core.kv.proto.MultiGetEntry[] merged = new io.loomkv.core.kv.proto.MultiGetEntry[keys.size()];
                for (int p = 0; p < parts.size(); p++) {
                    MultiGetResult part = parts.get(p).join();
                    List<Integer> indexes = order.get(p);
                    if (part.getEntriesCount() != indexes.size()) {
                        throw new KvClientException(Status.INTERNAL, "a group answered " + part.getEntriesCount()
                                + " entries for " + indexes.size() + " keys", false);
                    }
                    for (int j = 0; j < indexes.size(); j++) {
                        merged[indexes.get(j)] = part.getEntries(j);
                    }
                }
                return MultiGetResult.newBuilder().addAllEntries(List.of(merged)).build();
            });
        });
    }

    /** One page of keys with {@code prefix}, after {@code resumeAfter} (empty: from the start), in key order across groups. */
    public ScanResult scan(ByteString prefix, int limit, ByteString resumeAfter) {
        return await(scanAsync(Scan.newBuilder().setPrefix(prefix).setLimit(limit).setResumeAfter(resumeAfter).build(),
                ReadConsistency.LINEARIZABLE));
    }

    public CompletableFuture<ScanResult> scanAsync(Scan scan, ReadConsistency consistency) {
        return view().thenCompose(view -> {
            List<Long> groups = ScanMerge.groupsFor(scan, view.layout());
            List<CompletableFuture<ScanResult>> pages = new ArrayList<>();
            for (long group : groups) {
                pages.add(executeAsync(KvRequest.newBuilder().setGroupId(group).setConsistency(consistency).setScan(scan)
                        .build()).thenApply(reply -> expectOk(reply).getScan()));
            }
            return CompletableFuture.allOf(pages.toArray(CompletableFuture[]::new))
                    .thenApply(done -> ScanMerge.merge(pages.stream().map(CompletableFuture::join).toList(), scan.getLimit()));
        });
    }

    public boolean put(String key, String value) {
        return put(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(value));
    }

    public Optional<String> get(String key) {
        return get(ByteString.copyFromUtf8(key)).map(ByteString::toStringUtf8);
    }

    // ---- routing ----

    /** The layout as last fetched (fetching it first if needed). */
    public SlotLayout layout() {
        return await(view()).layout();
    }

    /** Fetches the layout and the leaders again now (at most every 100 ms). */
    public SlotLayout refreshLayout() {
        return await(routing.refresh(0)).layout();
    }

    /** The group that holds {@code key} under the current layout. */
    public long groupOf(ByteString key) {
        return groupOf(layout(), key);
    }

    private static long groupOf(SlotLayout layout, ByteString key) {
        return layout.groupOf(Slots.slotOf(key));
    }

    /** The group a single-key or named-group request goes to. */
    private static long groupOf(SlotLayout layout, KvRequest request) {
        if (request.getOpCase() == KvRequest.OpCase.CONTROLLER) {
            return GroupIds.CONTROLLER_GROUP_ID;
        }
        if (request.getGroupId() != 0) {
            return request.getGroupId();
        }
        ByteString key = switch (request.getOpCase()) {
            case GET -> request.getGet().getKey();
            case PUT -> request.getPut().getKey();
            case APPEND -> request.getAppend().getKey();
            case DELETE -> request.getDelete().getKey();
            case COMPARE_AND_SET -> request.getCompareAndSet().getKey();
            case EXPIRE -> request.getExpire().getKey();
            case MULTI_GET -> request.getMultiGet().getKeysCount() == 0 ? null : request.getMultiGet().getKeys(0);
            case MULTI_PUT -> request.getMultiPut().getEntriesCount() == 0 ? null : request.getMultiPut().getEntries(0).getKey();
            case SCAN, OPEN_SESSION, MIGRATION_READ, MIGRATION_WRITE, OP_NOT_SET -> null;
            case CONTROLLER -> null; // handled above
        };
        if (key == null) {
            if (layout.groups().size() == 1) {
                return layout.groups().iterator().next();
            }
            throw new KvClientException(Status.INVALID_ARGUMENT, request.getOpCase()
                    + " on a sharded cluster needs a group: use scan/multiGet/multiPut, which split per group", false);
        }
        return groupOf(layout, key);
    }

    /** Whether the keys of {@code multiGet} are in more than one group under {@code layout}. */
    private static boolean spansGroups(SlotLayout layout, MultiGet multiGet) {
        return spansGroups(layout, multiGet.getKeysList());
    }

    private static boolean spansGroups(SlotLayout layout, MultiPut multiPut) {
        return spansGroups(layout, multiPut.getEntriesList().stream().map(KeyValue::getKey).toList());
    }

    private static boolean spansGroups(SlotLayout layout, List<ByteString> keys) {
        long first = -1;
        for (ByteString key : keys) {
            long group = groupOf(layout, key);
            if (first == -1) {
                first = group;
            } else if (group != first) {
                return true;
            }
        }
        return false;
    }

    /** The group of a key-addressed request under {@code layout}; {@code group} for other requests. */
    private static long keyGroup(SlotLayout layout, KvRequest request, long group) {
        return switch (request.getOpCase()) {
            case GET, PUT, APPEND, DELETE, COMPARE_AND_SET, EXPIRE, MULTI_GET, MULTI_PUT ->
                    groupOf(layout, request.toBuilder().setGroupId(0).build());
            default -> group;
        };
    }

    /** The layout, fetched (with retries until {@code deadlineNanos}) when none is known yet. */
    private CompletableFuture<ClusterRouting.View> view(long deadlineNanos, int attempt) {
        return routing.view().handle((view, failure) -> {
            if (view != null) {
                return CompletableFuture.completedFuture(view);
            }
            long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (remainingMillis <= 0) {
                return CompletableFuture.<ClusterRouting.View>failedFuture(failure);
            }
            long backoffMillis = Math.min(config.backoffMax().toMillis(), config.backoffInitial().toMillis() << Math.min(attempt, 20));
            Executor later = CompletableFuture.delayedExecutor(Math.min(backoffMillis, remainingMillis), TimeUnit.MILLISECONDS);
            return CompletableFuture.supplyAsync(() -> view(deadlineNanos, attempt + 1), later).thenCompose(Function.identity());
        }).thenCompose(Function.identity());
    }

    private CompletableFuture<ClusterRouting.View> view() {
        return view(System.nanoTime() + config.deadline().toNanos(), 0);
    }

    // ---- async API ----

    /**
     * Executes one request at its key's group (a multi-key request must stay within one group, a
     * scan must name its group: the sync methods split them). Writes get the session fields filled
     * in (any the caller set are replaced). The future completes with the server's reply for
     * definite outcomes (OK, NOT_FOUND, CAS_FAILED, INVALID_ARGUMENT, ...) and fails with
     * {@link KvClientException} when the deadline passed (for a write: outcome unknown) or the
     * session expired. A write may wait here for a slot when
     * {@link KvClientConfig#maxWritesInFlight()} writes to its group are in flight.
     */
    public CompletableFuture<KvReply> executeAsync(KvRequest request) {
        long deadlineNanos = System.nanoTime() + config.deadline().toNanos();
        return view(deadlineNanos, 0).thenCompose(view -> {
            long group = groupOf(view.layout(), request);
            KvRequest routed = request.toBuilder().setGroupId(group).build();
            if (request.getOpCase() == KvRequest.OpCase.OPEN_SESSION || !KvCommands.isWrite(request)) {
                return attempt(routed, group, deadlineNanos, 0, KvCommands.isWrite(request), null, null, "no answer yet");
            }
            return write(routed, group, deadlineNanos);
        });
    }

    private CompletableFuture<KvReply> write(KvRequest request, long group, long deadlineNanos) {
        WriteSession session = sessions.computeIfAbsent(group, g -> new WriteSession(config.maxWritesInFlight()));
        long sequence;
        try {
            sequence = session.allocate(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new KvClientException(Status.UNAVAILABLE, "interrupted", false));
        }
        if (sequence == 0) {
            return CompletableFuture.failedFuture(new KvClientException(Status.RESOURCE_EXHAUSTED,
                    "no write slot free within the deadline (" + config.maxWritesInFlight() + " writes in flight to group "
                            + group + ")", false));
        }
        CompletableFuture<Long> clientId = session.clientId(() -> openSession(group, deadlineNanos));
        WriteDoubt doubt = new WriteDoubt();
        return clientId.thenCompose(id -> {
            KvRequest numbered = request.toBuilder().setClientId(id).setSequence(sequence).build();
            return attempt(numbered, group, deadlineNanos, 0, true, session, doubt, "no answer yet");
        }).whenComplete((reply, failure) -> {
            session.release(sequence);
            if (reply != null && reply.getStatus() == Status.SESSION_EXPIRED) {
                session.reset(clientId);
            }
        }).thenApply(reply -> {
            if (reply.getStatus() == Status.SESSION_EXPIRED) {
                throw new KvClientException(Status.SESSION_EXPIRED, reply.getMessage() + " (the write was not applied)", false);
            }
            return reply;
        }).exceptionallyCompose(failure -> {
            // The session could not open because the group left the layout (see attempt): the
            // write was routed by a view from before it left and was never sent under a
            // sequence, so it goes to its key's group now as a new write. Without this it asked
            // the departed group until its deadline and failed with its outcome unknown.
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (!(cause instanceof KvClientException refused) || refused.status() != Status.WRONG_GROUP) {
                return CompletableFuture.failedFuture(cause);
            }
            SlotLayout layout = routing.current().layout();
            if (request.getOpCase() == KvRequest.OpCase.MULTI_PUT && spansGroups(layout, request.getMultiPut())) {
                return CompletableFuture.failedFuture(cause); // multiPutAsync splits it again
            }
            long now = keyGroup(layout, request, group);
            return now == group ? CompletableFuture.failedFuture(cause)
                    : write(request.toBuilder().setGroupId(now).build(), now, deadlineNanos);
        });
    }

    private CompletableFuture<Long> openSession(long group, long deadlineNanos) {
        KvRequest open = KvRequest.newBuilder().setGroupId(group)
                .setOpenSession(OpenSession.newBuilder().setController(group == GroupIds.CONTROLLER_GROUP_ID)).build();
        return attempt(open, group, deadlineNanos, 0, true, null, null, "no answer yet").thenApply(reply -> {
            if (reply.getStatus() != Status.OK) {
                throw new KvClientException(reply.getStatus(), "open session in group " + group + ": " + reply.getMessage(), false);
            }
            return reply.getOpenSession().getClientId();
        });
    }

    private CompletableFuture<KvReply> attempt(KvRequest request, long group, long deadlineNanos, int attempt, boolean write,
            WriteSession session, WriteDoubt doubt, String lastProblem) {
        long remainingNanos = deadlineNanos - System.nanoTime();
        // RPC timeouts are whole milliseconds: an attempt with less than one left would only fail
        // locally ("timeout must be positive") and report that instead of the last real problem.
        if (TimeUnit.NANOSECONDS.toMillis(remainingNanos) < 1) {
            return CompletableFuture.failedFuture(new KvClientException(Status.TIMEOUT, "no definite answer from group "
                    + group + " within the deadline of " + config.deadline().toMillis() + " ms; last: " + lastProblem, write));
        }
        KvRequest toSend = request;
        if (session != null && request.getSequence() > 0) {
            // Everything below the oldest write still waiting was answered: the group may forget those replies.
            toSend = request.toBuilder().setAcknowledgedBelow(session.acknowledgedBelow(request.getSequence())).build();
        }
        ClusterRouting.View view = routing.current();
        InetSocketAddress follower = followerFirst(request, attempt) ? routing.followerTarget(view, group) : null;
        InetSocketAddress target = follower != null ? follower : routing.target(view, group);
        Duration timeout = Duration.ofNanos(Math.min(remainingNanos, config.attemptTimeout().toNanos()));
        CompletableFuture<KvReply> call;
        try {
            call = rpc.call(target, NodeMethods.KV, toSend, timeout);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((reply, failure) -> {
            if (failure != null) {
                routing.forgetLeader(group, target);
                if (doubt != null) {
                    doubt.attemptInDoubt(); // the request may have arrived before the connection failed
                }
                return retry(request, group, deadlineNanos, attempt, write, session, doubt, target + ": " + failure.getMessage());
            }
            return switch (reply.getStatus()) {
                case NOT_LEADER -> {
                    routing.leaderIs(group, reply.getLeaderId(), parseHint(reply.getLeaderAddress()));
                    InetSocketAddress hint = routing.target(routing.current(), group);
                    if (reply.getLeaderId() != 0 && !hint.equals(target) && attempt < MAX_IMMEDIATE_REDIRECTS) {
                        yield attempt(request, group, deadlineNanos, attempt + 1, write, session, doubt, "redirected");
                    }
                    routing.forgetLeader(group, target);
                    yield retry(request, group, deadlineNanos, attempt, write, session, doubt, target + ": " + reply.getMessage());
                }
                case WRONG_GROUP -> {
                    // The store hosts no replica of the group. Whatever sent us there (a cached leader
                    // from a stale view or hint) must go too, or every retry asks the same store: a
                    // newer layout alone does not replace a cached leader.
                    routing.forgetLeader(group, target);
                    yield routing.refresh(reply.getLayoutVersion()).handle((v, f) -> v).thenCompose(v -> {
                        SlotLayout layout = routing.current().layout();
                        if (request.getOpCase() == KvRequest.OpCase.OPEN_SESSION && group != GroupIds.CONTROLLER_GROUP_ID
                                && !layout.hasGroup(group)) {
                            // The group left: no session opens there, however long we ask. A
                            // definite answer (nothing was opened); write() reroutes its write.
                            return CompletableFuture.<KvReply>failedFuture(new KvClientException(Status.WRONG_GROUP,
                                    "open session in group " + group + ": not in layout " + layout.version() + " ("
                                            + target + ": " + reply.getMessage() + ")", false));
                        }
                        if (request.getOpCase() == KvRequest.OpCase.MULTI_GET && spansGroups(layout, request.getMultiGet())) {
                            // Some of its keys' slots moved to another group: no one group serves
                            // this part any more. A read, so failing changes nothing: multiGetAsync
                            // splits the keys again by the new layout.
                            return CompletableFuture.<KvReply>failedFuture(new KvClientException(Status.WRONG_GROUP,
                                    "the keys of this multi-get span several groups under layout " + layout.version()
                                            + " (" + target + ": " + reply.getMessage() + ")", false));
                        }
                        if (request.getOpCase() == KvRequest.OpCase.MULTI_PUT && doubt != null && !doubt.mayHaveApplied()
                                && spansGroups(layout, request.getMultiPut())) {
                            // Its keys' slots moved to several groups, and no attempt left a copy
                            // that could still be applied (see WriteDoubt): the sequence is given
                            // up, and multiPutAsync writes the entries again, split by the new layout.
                            return CompletableFuture.<KvReply>failedFuture(new KvClientException(Status.WRONG_GROUP,
                                    "the keys of this multi-put span several groups under layout " + layout.version()
                                            + "; nothing was applied (" + target + ": " + reply.getMessage() + ")", false));
                        }
                        // The key's slot may have moved to another group: send the request there, a
                        // write with the same session and sequence, so that the new owner (which
                        // imported the slot's replies) answers a retry of a write applied before
                        // the move with its outcome instead of applying it again.
                        long now = keyGroup(layout, request, group);
                        KvRequest rerouted = now == group ? request : request.toBuilder().setGroupId(now).build();
                        return retry(rerouted, now, deadlineNanos, attempt, write, session, doubt, target + ": " + reply.getMessage());
                    });
                }
                case UNAVAILABLE, TIMEOUT -> {
                    routing.forgetLeader(group, target);
                    if (doubt != null) {
                        doubt.attemptInDoubt(); // TIMEOUT: proposed, entry lost or late; UNAVAILABLE: a proxy's answer may hide either
                    }
                    yield retry(request, group, deadlineNanos, attempt, write, session, doubt,
                            target + ": " + reply.getStatus() + " " + reply.getMessage());
                }
                case STATUS_UNSPECIFIED, UNRECOGNIZED -> CompletableFuture.<KvReply>failedFuture(new KvClientException(
                        Status.INTERNAL, "reply without a status from " + target, write));
                default -> {
                    if (write) {
                        routing.leaderIs(group, routing.storeAt(view, target));
                    }
                    yield CompletableFuture.completedFuture(reply);
                }
            };
        }).thenCompose(Function.identity());
    }

    /**
     * Whether this attempt reads from a follower: the first attempt of a SERIALIZABLE read when the
     * config asks for it. Retries go to the leader, so a follower that is down or behind costs one
     * attempt, not the whole deadline.
     */
    private boolean followerFirst(KvRequest request, int attempt) {
        return config.serializableReadsOnFollowers() && attempt == 0 && request.getConsistency() == ReadConsistency.SERIALIZABLE
                && !KvCommands.isWrite(request);
    }

    private CompletableFuture<KvReply> retry(KvRequest request, long group, long deadlineNanos, int attempt, boolean write,
            WriteSession session, WriteDoubt doubt, String problem) {
        long backoffMillis = Math.min(config.backoffMax().toMillis(), config.backoffInitial().toMillis() << Math.min(attempt, 20));
        long jittered = backoffMillis / 2 + ThreadLocalRandom.current().nextLong(backoffMillis / 2 + 1);
        long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (remainingMillis <= 0) {
            return attempt(request, group, deadlineNanos, attempt + 1, write, session, doubt, problem);
        }
        Executor later = CompletableFuture.delayedExecutor(Math.min(jittered, remainingMillis), TimeUnit.MILLISECONDS);
        return CompletableFuture.supplyAsync(() -> attempt(request, group, deadlineNanos, attempt + 1, write, session, doubt, problem),
                later).thenCompose(Function.identity());
    }

    // ---- the shard controller ----

    /**
     * Carries out a shard controller command in group 0, exactly once like any write (a retried
     * Join is not joined twice). A refusal (unknown group, a bad range, ...) comes back with
     * {@link ControllerReply#getError()} saying why; nothing changed then.
     */
    public ControllerReply controller(ControllerCommand command) {
        return controller(KvRequest.newBuilder().setController(command).build());
    }

    private ControllerReply controller(KvRequest request) {
        KvReply reply = await(executeAsync(request));
        return switch (reply.getStatus()) {
            case OK -> reply.getController();
            case INVALID_ARGUMENT -> ControllerReply.newBuilder().setError(reply.getMessage()).build();
            default -> throw new KvClientException(reply.getStatus(), "shard controller: " + reply.getMessage(), false);
        };
    }

    /**
     * Configuration {@code number} of the shard controller, or the latest for -1 (a refusal has
     * its error set): a linearizable read of group 0.
     */
    public ControllerReply config(long number) {
        return config(number, ReadConsistency.LINEARIZABLE);
    }

    /** As {@link #config(long)}, read with {@code consistency} (SERIALIZABLE: from any controller replica, possibly stale). */
    public ControllerReply config(long number, ReadConsistency consistency) {
        return controller(KvRequest.newBuilder().setConsistency(consistency)
                .setController(ControllerCommand.newBuilder().setQuery(QueryConfig.newBuilder().setNumber(number))).build());
    }

    /**
     * The stores' latest reports (what each hosts and leads, and how long ago it said so), from the
     * shard controller's leader, found like any group's leader.
     */
    public StoreReportsReply storeReports() {
        long deadlineNanos = System.nanoTime() + config.deadline().toNanos();
        ClusterRouting.View view = await(view());
        String last = "no answer yet";
        int attempt = 0;
        while (System.nanoTime() < deadlineNanos) {
            InetSocketAddress target = routing.target(view, GroupIds.CONTROLLER_GROUP_ID);
            try {
                StoreReportsReply reply = awaitRpc(rpc.call(target, NodeMethods.STORE_REPORTS,
                        StoreReportsRequest.getDefaultInstance(), config.attemptTimeout()));
                if (reply.getLeader()) {
                    routing.leaderIs(GroupIds.CONTROLLER_GROUP_ID, routing.storeAt(view, target));
                    return reply;
                }
                routing.forgetLeader(GroupIds.CONTROLLER_GROUP_ID, target);
                routing.leaderIs(GroupIds.CONTROLLER_GROUP_ID, reply.getLeaderId(), parseHint(reply.getLeaderAddress()));
                last = target + " does not lead the shard controller";
            } catch (RuntimeException e) {
                routing.forgetLeader(GroupIds.CONTROLLER_GROUP_ID, target);
                last = target + ": " + e.getMessage();
            }
            sleepQuietly(Math.min(config.backoffMax().toMillis(), config.backoffInitial().toMillis() << Math.min(attempt++, 10)));
        }
        throw new KvClientException(Status.UNAVAILABLE, "no leader of the shard controller answered within "
                + config.deadline().toMillis() + " ms; last: " + last, false);
    }

    // ---- administration ----

    /** The status of the store at {@code server} (its first group in the top-level fields, every group in the list). */
    public NodeStatusReply status(InetSocketAddress server) {
        return status(server, 0);
    }

    /** The status of the store at {@code server}, the top-level fields describing {@code groupId}. */
    public NodeStatusReply status(InetSocketAddress server, long groupId) {
        return awaitRpc(rpc.call(server, NodeMethods.STATUS, NodeStatusRequest.newBuilder().setGroupId(groupId).build(),
                config.attemptTimeout()));
    }

    /**
     * The status of the store at {@code server}, each data group's view also listing the slots its
     * replica there holds keys of without serving them ({@code GroupView.stray_slots}).
     */
    public NodeStatusReply auditSlots(InetSocketAddress server) {
        return awaitRpc(rpc.call(server, NodeMethods.STATUS, NodeStatusRequest.newBuilder().setAuditSlots(true).build(),
                config.attemptTimeout()));
    }

    /** The status of the store at {@code server}, the top-level fields describing its replica of group 0, the shard controller. */
    public NodeStatusReply controllerStatus(InetSocketAddress server) {
        return awaitRpc(rpc.call(server, NodeMethods.STATUS, NodeStatusRequest.newBuilder().setController(true).build(),
                config.attemptTimeout()));
    }

    /** The layout and the group views of the store at {@code server}. */
    public LayoutReply layoutOf(InetSocketAddress server) {
        return awaitRpc(rpc.call(server, NodeMethods.LAYOUT, LayoutRequest.getDefaultInstance(), config.attemptTimeout()));
    }

    /**
     * One call of a backup's transfer of a group's snapshot ({@link NodeMethods#GROUP_SNAPSHOT}) to
     * the store at {@code server}; the first may wait for the leader to write a snapshot, hence its own timeout.
     */
    public GroupSnapshotReply groupSnapshot(InetSocketAddress server, GroupSnapshotRequest request, Duration timeout) {
        return awaitRpc(rpc.call(server, NodeMethods.GROUP_SNAPSHOT, request, timeout));
    }

    /** Adds a node as a learner of the only group (promoted to voter by the leader once caught up). */
    public AdminReply addMember(long id, String clientAddress, String peerAddress) {
        return addMember(0, id, clientAddress, peerAddress);
    }

    /** Adds store {@code id} as a learner of {@code groupId} (0: the only group of a single-group cluster). */
    public AdminReply addMember(long groupId, long id, String clientAddress, String peerAddress) {
        return onLeader(groupId, NodeMethods.MEMBER_CHANGE, MemberChangeRequest.newBuilder()
                .setKind(MemberChangeRequest.Kind.ADD).setGroupId(groupId).setNodeId(id).setClientAddress(clientAddress)
                .setPeerAddress(peerAddress).build());
    }

    public AdminReply removeMember(long id) {
        return removeMember(0, id);
    }

    public AdminReply removeMember(long groupId, long id) {
        return onLeader(groupId, NodeMethods.MEMBER_CHANGE, MemberChangeRequest.newBuilder()
                .setKind(MemberChangeRequest.Kind.REMOVE).setGroupId(groupId).setNodeId(id).build());
    }

    public AdminReply transferLeader(long targetId) {
        return transferLeader(0, targetId);
    }

    public AdminReply transferLeader(long groupId, long targetId) {
        return onLeader(groupId, NodeMethods.TRANSFER_LEADER,
                TransferLeaderRequest.newBuilder().setGroupId(groupId).setTargetId(targetId).build());
    }

    /** Hands the leadership of group 0, the shard controller, to store {@code targetId}. */
    public AdminReply transferControllerLeader(long targetId) {
        ClusterRouting.View view = await(view());
        return onLeader(view, GroupIds.CONTROLLER_GROUP_ID, NodeMethods.TRANSFER_LEADER,
                TransferLeaderRequest.newBuilder().setController(true).setTargetId(targetId).build());
    }

    /** {@code groupId} 0: the only data group. */
    private <Req extends MessageLite> AdminReply onLeader(long groupId, RpcMethod<Req, AdminReply> method, Req request) {
        ClusterRouting.View view = await(view());
        return onLeader(view, groupId != 0 ? groupId : view.layout().groups().iterator().next(), method, request);
    }

    private <Req extends MessageLite> AdminReply onLeader(ClusterRouting.View view, long group, RpcMethod<Req, AdminReply> method,
            Req request) {
        long deadlineNanos = System.nanoTime() + config.deadline().toNanos();
        AdminReply last = null;
        RuntimeException lastFailure = null;
        int attempt = 0;
        while (System.nanoTime() < deadlineNanos) {
            InetSocketAddress target = routing.target(view, group);
            try {
                last = awaitRpc(rpc.call(target, method, request, config.attemptTimeout()));
                if (last.getRetrySoon()) {
                    // The leader is handing its leadership over: ask again (here or at the next leader).
                    routing.forgetLeader(group, target);
                } else if (!NOT_LEADER_MESSAGE.equals(last.getMessage())) {
                    routing.leaderIs(group, routing.storeAt(view, target));
                    return last; // Done, or a definite refusal from the leader.
                } else {
                    routing.forgetLeader(group, target);
                    routing.leaderIs(group, last.getLeaderId(), parseHint(last.getLeaderAddress()));
                }
            } catch (RuntimeException e) {
                lastFailure = e;
                routing.forgetLeader(group, target);
            }
            sleepQuietly(Math.min(config.backoffMax().toMillis(), config.backoffInitial().toMillis() << Math.min(attempt++, 10)));
        }
        if (last != null) {
            return last;
        }
        throw new KvClientException(Status.UNAVAILABLE, "no leader of group " + group + " answered " + method.name() + ": "
                + lastFailure, true);
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static KvReply expectOk(KvReply reply) {
        if (reply.getStatus() != Status.OK) {
            throw new KvClientException(reply.getStatus(), reply.getMessage(), false);
        }
        return reply;
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvClientException(Status.UNAVAILABLE, "interrupted while waiting", true);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof CompletionException c && c.getCause() != null) {
                cause = c.getCause();
            }
            if (cause instanceof KvClientException k) {
                throw k;
            }
            throw new KvClientException(Status.INTERNAL, String.valueOf(cause), true);
        }
    }

    private static <T> T awaitRpc(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvClientException(Status.UNAVAILABLE, "interrupted while waiting", true);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new KvClientException(Status.UNAVAILABLE, String.valueOf(cause), true);
        }
    }

    /** Parses a host:port hint; null when absent or malformed. */
    static InetSocketAddress parseHint(String address) {
        if (address == null || address.isEmpty()) {
            return null;
        }
        try {
            return MemberAddress.parseHostPort(address);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public void close() {
        rpc.close();
    }
}
