package io.loomkv.net.node;

import com.google.protobuf.ByteString;
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
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KeyTtl;
import io.loomkv.net.client.WriteSession;
import io.loomkv.net.resp.RespBackend;
import io.loomkv.net.resp.RespCluster;
import io.loomkv.net.resp.RespError;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One RESP connection's view of its store ({@link StoreRespBackend}): reads go to the key's group
 * leader here (linearizable), or, after {@code READONLY}, to this store's replica whatever its role
 * (serializable: possibly stale, as a Redis Cluster replica); writes go to the leader here with
 * this connection's exactly-once session in that group, opened on its first write there. Every
 * key of one command is in one slot (the dispatcher answers {@code -CROSSSLOT} otherwise).
 */
final class StoreRespConnection implements RespBackend {
    /** Writes of one connection in flight per group; the group caches at most 128 unacknowledged replies per session. */
    static final int MAX_WRITES_IN_FLIGHT = 64;
    private static final int GROUP_ID_BYTES = Long.BYTES;

    private final StoreRespBackend store;
    private final BooleanSupplier readOnly;
    private final ConcurrentHashMap<Long, WriteSession> sessions = new ConcurrentHashMap<>();

    StoreRespConnection(StoreRespBackend store, BooleanSupplier readOnly) {
        this.store = store;
        this.readOnly = readOnly;
    }

    @Override
    public Optional<RespCluster> cluster() {
        return store.cluster();
    }

    /** Hands this connection's idle sessions on to the connections after it (one Raft write less per group each). */
    @Override
    public void connectionClosed() {
        sessions.forEach(store::returnSession);
        sessions.clear();
    }

    @Override
    public Map<String, String> clusterInfo() {
        return store.clusterInfo();
    }

    @Override
    public CompletableFuture<Optional<ByteString>> get(ByteString key) {
        return read(key, KvRequest.newBuilder().setGet(Get.newBuilder().setKey(key))).thenApply(reply ->
                reply.getStatus() == Status.NOT_FOUND ? Optional.empty() : Optional.of(ok(reply).getGet().getValue()));
    }

    @Override
    public CompletableFuture<Boolean> put(ByteString key, ByteString value, Expiry expiry) {
        return write(key, KvRequest.newBuilder().setPut(Put.newBuilder().setKey(key).setValue(value).setExpiry(expiry)))
                .thenApply(reply -> ok(reply).getPut().getExisted());
    }

    @Override
    public CompletableFuture<ExpireResult> expire(Expire expire) {
        return write(expire.getKey(), KvRequest.newBuilder().setExpire(expire)).thenApply(reply -> ok(reply).getExpire());
    }

    @Override
    public CompletableFuture<KeyTtl> ttl(ByteString key) {
        return read(key, KvRequest.newBuilder().setGet(Get.newBuilder().setKey(key).setWithoutValue(true))).thenApply(reply ->
                reply.getStatus() == Status.NOT_FOUND ? KeyTtl.absent() : KeyTtl.of(ok(reply).getGet()));
    }

    @Override
    public CompletableFuture<Boolean> delete(ByteString key) {
        return write(key, KvRequest.newBuilder().setDelete(Delete.newBuilder().setKey(key)))
                .thenApply(reply -> ok(reply).getDelete().getExisted());
    }

    @Override
    public CompletableFuture<Long> append(ByteString key, ByteString value) {
        return write(key, KvRequest.newBuilder().setAppend(Append.newBuilder().setKey(key).setValue(value)))
                .thenApply(reply -> ok(reply).getAppend().getNewLengthBytes());
    }

    @Override
    public CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue,
            Expiry expiry) {
        CompareAndSet.Builder cas = CompareAndSet.newBuilder().setKey(key).setNewValue(newValue).setExpiry(expiry);
        expected.ifPresentOrElse(cas::setExpectedValue, () -> cas.setExpectAbsent(true));
        return write(key, KvRequest.newBuilder().setCompareAndSet(cas)).thenApply(reply -> {
            if (reply.getStatus() == Status.CAS_FAILED) {
                var result = reply.getCompareAndSet();
                return new CasOutcome(false, result.getCurrentPresent() ? Optional.of(result.getCurrentValue()) : Optional.empty());
            }
            return new CasOutcome(ok(reply).getCompareAndSet().getSwapped(), Optional.empty());
        });
    }

    @Override
    public CompletableFuture<List<Optional<ByteString>>> multiGet(List<ByteString> keys) {
        requireOneSlot(keys);
        return read(keys.get(0), KvRequest.newBuilder().setMultiGet(MultiGet.newBuilder().addAllKeys(keys)))
                .thenApply(reply -> ok(reply).getMultiGet().getEntriesList().stream()
                        .map(entry -> entry.getFound() ? Optional.of(entry.getValue()) : Optional.<ByteString>empty())
                        .toList());
    }

    @Override
    public CompletableFuture<Void> multiPut(SequencedMap<ByteString, ByteString> entries) {
        List<ByteString> keys = List.copyOf(entries.keySet());
        requireOneSlot(keys);
        MultiPut.Builder multiPut = MultiPut.newBuilder();
        entries.forEach((key, value) -> multiPut.addEntries(KeyValue.newBuilder().setKey(key).setValue(value)));
        return write(keys.get(0), KvRequest.newBuilder().setMultiPut(multiPut)).thenApply(reply -> {
            ok(reply);
            return null;
        });
    }

    /**
     * As a Redis Cluster node's SCAN, the keys this store serves: the groups it leads (after
     * {@code READONLY}: every group it has a replica of), one group after another in group order.
     * The continuation is the group id (8 bytes) followed by the key to resume after. A group that
     * stops being led here between two pages is skipped.
     */
    @Override
    public CompletableFuture<ScanPage> scan(ByteString prefix, ByteString resumeAfter, int limit) {
        long fromGroup = 0;
        ByteString after = ByteString.EMPTY;
        if (!resumeAfter.isEmpty()) {
            if (resumeAfter.size() < GROUP_ID_BYTES) {
                return CompletableFuture.failedFuture(RespError.err("invalid cursor"));
            }
            fromGroup = resumeAfter.substring(0, GROUP_ID_BYTES).asReadOnlyByteBuffer().getLong();
            after = resumeAfter.substring(GROUP_ID_BYTES);
        }
        List<Long> groups = scannedGroups();
        long start = fromGroup;
        Optional<Long> group = groups.stream().filter(g -> g >= start).findFirst();
        if (group.isEmpty()) {
            return CompletableFuture.completedFuture(new ScanPage(List.of(), false, ByteString.EMPTY));
        }
        long current = group.get();
        Optional<Long> next = groups.stream().filter(g -> g > current).findFirst();
        KvRequest request = KvRequest.newBuilder().setGroupId(current).setConsistency(consistency())
                .setScan(Scan.newBuilder().setPrefix(prefix).setResumeAfter(after).setLimit(limit)).build();
        return store.local(request).thenApply(reply -> {
            if (reply.getStatus() == Status.NOT_LEADER) {
                return endOfGroup(List.of(), next);
            }
            var result = ok(reply).getScan();
            List<ByteString> keys = result.getEntriesList().stream().map(KeyValue::getKey).toList();
            if (result.getMore()) {
                return new ScanPage(keys, true, position(current, result.getContinuation()));
            }
            return endOfGroup(keys, next);
        });
    }

    private List<Long> scannedGroups() {
        boolean anyReplica = readOnly.getAsBoolean();
        return store.layout().groups().stream().sorted()
                .filter(g -> anyReplica ? store.serving(g) != null : store.leads(g)).toList();
    }

    private static ScanPage endOfGroup(List<ByteString> keys, Optional<Long> next) {
        return next.map(g -> new ScanPage(keys, true, position(g, ByteString.EMPTY)))
                .orElseGet(() -> new ScanPage(keys, false, ByteString.EMPTY));
    }

    private static ByteString position(long group, ByteString key) {
        return ByteString.copyFrom(ByteBuffer.allocate(GROUP_ID_BYTES).putLong(0, group)).concat(key);
    }

    private ReadConsistency consistency() {
        return readOnly.getAsBoolean() ? ReadConsistency.SERIALIZABLE : ReadConsistency.LINEARIZABLE;
    }

    /**
     * A read of {@code key}'s group: at its leader here, or (READONLY) at any replica here; else a
     * redirect. A replica that cannot take it just now (a leadership transfer, a full queue) is asked
     * again after a pause, until the write deadline; a key whose slot moves is asked again, routed
     * by the newest layout, until the move wait is over ({@code -TRYAGAIN} then).
     */
    private CompletableFuture<KvReply> read(ByteString key, KvRequest.Builder request) {
        return read(key, request, store.waitsFromNow());
    }

    private CompletableFuture<KvReply> read(ByteString key, KvRequest.Builder request, StoreRespBackend.Waits waits) {
        int slot = Slots.slotOf(key);
        long group = store.groupOf(slot);
        boolean stale = readOnly.getAsBoolean() && store.serving(group) != null;
        Supplier<CompletableFuture<KvReply>> again = () -> read(key, request, waits);
        if (!stale && !store.leads(group)) {
            return elsewhere(slot, group, waits, again);
        }
        KvRequest routed = request.setGroupId(group).setConsistency(stale ? ReadConsistency.SERIALIZABLE
                : ReadConsistency.LINEARIZABLE).build();
        return store.local(routed).thenCompose(reply -> {
            if (StoreRespBackend.slotNotServed(reply)) {
                return !waits.moveWaitOver() ? StoreRespBackend.afterPause(again)
                        : CompletableFuture.failedFuture(StoreRespBackend.slotStillMoving(slot, reply));
            }
            return switch (reply.getStatus()) {
                case NOT_LEADER -> store.otherLeaderKnown(group, reply.getLeaderId()) ? store.redirect(slot, group, reply.getLeaderId())
                        : elsewhere(slot, group, waits, again);
                case UNAVAILABLE -> !waits.deadlinePassed() ? StoreRespBackend.afterPause(again)
                        : CompletableFuture.failedFuture(new RespError(StoreRespBackend.CLUSTER_DOWN + " (" + reply.getMessage() + ")"));
                // No ReadIndex confirmation within the request timeout: the leader lost its quorum.
                case TIMEOUT -> CompletableFuture.failedFuture(
                        new RespError(StoreRespBackend.CLUSTER_DOWN + " (" + reply.getMessage() + ")"));
                default -> CompletableFuture.completedFuture(reply);
            };
        });
    }

    /** A write of {@code key}'s group, numbered in this connection's session there; retried once if the session expired. */
    private CompletableFuture<KvReply> write(ByteString key, KvRequest.Builder request) {
        return write(key, request, true, store.waitsFromNow());
    }

    private CompletableFuture<KvReply> write(ByteString key, KvRequest.Builder request, boolean mayRenewSession,
            StoreRespBackend.Waits waits) {
        int slot = Slots.slotOf(key);
        long group = store.groupOf(slot);
        if (!store.leads(group)) {
            return elsewhere(slot, group, waits, () -> write(key, request, mayRenewSession, waits));
        }
        long deadlineNanos = waits.deadlineNanos();
        WriteSession session = sessions.computeIfAbsent(group, store::takeSession);
        long sequence;
        try {
            sequence = session.allocate(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(RespError.err("interrupted"));
        }
        if (sequence == 0) {
            return CompletableFuture.failedFuture(new RespError("TRYAGAIN " + MAX_WRITES_IN_FLIGHT
                    + " writes of this connection to group " + group + " are still waiting"));
        }
        CompletableFuture<Long> clientId = session.clientId(() -> store.openSession(slot, group, waits));
        CompletableFuture<KvReply> reply = clientId.thenCompose(id -> store.propose(request.setGroupId(group)
                .setClientId(id).setSequence(sequence).setAcknowledgedBelow(session.acknowledgedBelow(sequence)).build(),
                slot, waits, false)).whenComplete((done, failure) -> {
            session.release(sequence);
            if (done != null && done.getStatus() == Status.SESSION_EXPIRED) {
                session.reset(clientId);
            }
        });
        return reply.thenCompose(done -> {
            if (done.getStatus() != Status.SESSION_EXPIRED) {
                return CompletableFuture.completedFuture(done);
            }
            // Expired or evicted: the write was not applied, so it is safe to send it again in a new session.
            return mayRenewSession ? write(key, request, false, waits)
                    : CompletableFuture.failedFuture(new RespError("TRYAGAIN " + done.getMessage()));
        });
    }

    /**
     * The key's group is not served here: {@code -MOVED} to its leader, or, while no other leader is
     * known (an election), {@code again} after a pause, until the leader wait is over; then
     * {@code -CLUSTERDOWN}. While this store's layout is behind what its replica of the group has
     * applied (a slot move this store does not route by yet), {@code again} after a pause too, up to
     * the move wait: a -MOVED from the old layout could send the client to a store that sends it back.
     */
    private CompletableFuture<KvReply> elsewhere(int slot, long group, StoreRespBackend.Waits waits, Supplier<CompletableFuture<KvReply>> again) {
        if (store.layoutBehind(group) && !waits.moveWaitOver()) {
            return StoreRespBackend.afterPause(again);
        }
        if (store.otherLeaderKnown(group, 0) || waits.leaderWaitOver()) {
            return store.redirect(slot, group, 0);
        }
        return StoreRespBackend.afterPause(again);
    }

    private static void requireOneSlot(List<ByteString> keys) {
        int slot = Slots.slotOf(keys.get(0));
        for (ByteString key : keys) {
            if (Slots.slotOf(key) != slot) {
                throw new RespError("CROSSSLOT Keys in request don't hash to the same slot");
            }
        }
    }

    private static KvReply ok(KvReply reply) {
        if (reply.getStatus() != Status.OK) {
            throw StoreRespBackend.failure(reply);
        }
        return reply;
    }
}
