package io.loomkv.net.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.loomkv.core.kv.KvCommands;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
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
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The loomkv Java client: thread-safe, with a sync API (methods named after the operation) and
 * an async one ({@link #executeAsync}). Many requests share a few connections per node. It finds
 * the leader through the redirect hint in NOT_LEADER replies, retries with jittered exponential
 * backoff until the operation's deadline, and never reports a success it did not get: a write
 * whose deadline passes without an answer fails with {@link KvClientException#outcomeUnknown()}.
 *
 * <p>Writes are exactly-once through a server-side session: the client opens a session on first
 * write, numbers its writes, and resends a retried write with the same sequence number, so the
 * state machine applies it once and returns the cached reply to the copy.
 */
public final class KvClient implements AutoCloseable {
    /** The message of the AdminReply a non-leader sends (with the leader hint). */
    private static final String NOT_LEADER_MESSAGE = "not the leader";

    private final KvClientConfig config;
    private final RpcClient rpc;
    private final AtomicInteger rotation = new AtomicInteger();
    private final ConcurrentSkipListSet<Long> unacknowledged = new ConcurrentSkipListSet<>();
    private final AtomicLong nextSequence = new AtomicLong(1);
    private final ReentrantLock sessionLock = new ReentrantLock();
    private final ReentrantLock sequenceLock = new ReentrantLock();
    private final java.util.concurrent.locks.Condition windowOpen = sequenceLock.newCondition();
    private volatile InetSocketAddress leader;
    private CompletableFuture<Long> session; // guarded by sessionLock

    public KvClient(KvClientConfig config) {
        this.config = config;
        this.rpc = new RpcClient(RpcClientConfig.client(config.clusterId()));
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

    /** Writes all pairs atomically. */
    public void multiPut(Map<ByteString, ByteString> entries) {
        MultiPut.Builder multi = MultiPut.newBuilder();
        entries.forEach((k, v) -> multi.addEntries(KeyValue.newBuilder().setKey(k).setValue(v)));
        expectOk(await(executeAsync(KvRequest.newBuilder().setMultiPut(multi).build())));
    }

    /** Reads several keys at one point in time. */
    public MultiGetResult multiGet(List<ByteString> keys) {
        return expectOk(await(executeAsync(KvRequest.newBuilder()
                .setMultiGet(MultiGet.newBuilder().addAllKeys(keys)).build()))).getMultiGet();
    }

    /** One page of keys with {@code prefix}, after {@code resumeAfter} (empty: from the start). */
    public ScanResult scan(ByteString prefix, int limit, ByteString resumeAfter) {
        return expectOk(await(executeAsync(KvRequest.newBuilder()
                .setScan(Scan.newBuilder().setPrefix(prefix).setLimit(limit).setResumeAfter(resumeAfter)).build()))).getScan();
    }

    public boolean put(String key, String value) {
        return put(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8(value));
    }

    public Optional<String> get(String key) {
        return get(ByteString.copyFromUtf8(key)).map(ByteString::toStringUtf8);
    }

    // ---- async API ----

    /**
     * Executes one request. Writes get the session fields filled in (any the caller set are
     * replaced). The future completes with the server's reply for definite outcomes (OK,
     * NOT_FOUND, CAS_FAILED, INVALID_ARGUMENT, ...) and fails with {@link KvClientException} when
     * the deadline passed (for a write: outcome unknown) or the session expired. A write may wait
     * here for a slot when {@link KvClientConfig#maxWritesInFlight()} writes are in flight.
     */
    public CompletableFuture<KvReply> executeAsync(KvRequest request) {
        long deadlineNanos = System.nanoTime() + config.deadline().toNanos();
        if (request.getOpCase() == KvRequest.OpCase.OPEN_SESSION) {
            return attempt(request, deadlineNanos, 0, true);
        }
        if (!KvCommands.isWrite(request)) {
            return attempt(request, deadlineNanos, 0, false);
        }
        long sequence;
        try {
            sequence = allocateSequence(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new KvClientException(Status.UNAVAILABLE, "interrupted", false));
        }
        if (sequence == 0) {
            return CompletableFuture.failedFuture(new KvClientException(Status.RESOURCE_EXHAUSTED,
                    "no write slot free within the deadline (" + config.maxWritesInFlight() + " writes in flight)", false));
        }
        return session(deadlineNanos).thenCompose(clientId -> {
            KvRequest numbered = request.toBuilder().setClientId(clientId).setSequence(sequence).build();
            return attempt(numbered, deadlineNanos, 0, true);
        }).whenComplete((reply, failure) -> {
            releaseSequence(sequence);
            if (reply != null && reply.getStatus() == Status.SESSION_EXPIRED) {
                resetSession();
            }
        }).thenApply(reply -> {
            if (reply.getStatus() == Status.SESSION_EXPIRED) {
                throw new KvClientException(Status.SESSION_EXPIRED, reply.getMessage() + " (the write was not applied)", false);
            }
            return reply;
        });
    }

    /**
     * Allocates the next write sequence once it is within {@link KvClientConfig#maxWritesInFlight()}
     * of the oldest write still waiting (the server caches a reply for every sequence from the
     * client's acknowledged mark up, so it is the span that is bounded, not just the count).
     * Allocation and registration are one step: otherwise a concurrent write could acknowledge past
     * a sequence allocated but not yet registered, and the server would refuse it as stale.
     *
     * @return the sequence, or 0 when no slot freed up before the deadline
     */
    private long allocateSequence(long deadlineNanos) throws InterruptedException {
        sequenceLock.lock();
        try {
            while (!unacknowledged.isEmpty() && nextSequence.get() - unacknowledged.first() >= config.maxWritesInFlight()) {
                long remaining = deadlineNanos - System.nanoTime();
                if (remaining <= 0) {
                    return 0;
                }
                windowOpen.awaitNanos(remaining);
            }
            long sequence = nextSequence.getAndIncrement();
            unacknowledged.add(sequence);
            return sequence;
        } finally {
            sequenceLock.unlock();
        }
    }

    private void releaseSequence(long sequence) {
        sequenceLock.lock();
        try {
            unacknowledged.remove(sequence);
            windowOpen.signalAll();
        } finally {
            sequenceLock.unlock();
        }
    }

    private CompletableFuture<Long> session(long deadlineNanos) {
        sessionLock.lock();
        try {
            if (session == null || session.isCompletedExceptionally()) {
                session = attempt(KvRequest.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build(),
                        deadlineNanos, 0, true).thenApply(reply -> {
                            if (reply.getStatus() != Status.OK) {
                                throw new KvClientException(reply.getStatus(), "open session: " + reply.getMessage(), false);
                            }
                            return reply.getOpenSession().getClientId();
                        });
            }
            return session;
        } finally {
            sessionLock.unlock();
        }
    }

    private void resetSession() {
        sessionLock.lock();
        try {
            session = null;
        } finally {
            sessionLock.unlock();
        }
    }

    private CompletableFuture<KvReply> attempt(KvRequest request, long deadlineNanos, int attempt, boolean write) {
        return attempt(request, deadlineNanos, attempt, write, "no answer yet");
    }

    private CompletableFuture<KvReply> attempt(KvRequest request, long deadlineNanos, int attempt, boolean write,
            String lastProblem) {
        long remainingNanos = deadlineNanos - System.nanoTime();
        if (remainingNanos <= 0) {
            return CompletableFuture.failedFuture(new KvClientException(Status.TIMEOUT, "no definite answer from "
                    + config.servers() + " within the deadline of " + config.deadline().toMillis() + " ms; last: " + lastProblem, write));
        }
        KvRequest toSend = request;
        if (request.getSequence() > 0) {
            // Everything below the oldest write still waiting was answered: the server may forget those replies.
            long oldest;
            sequenceLock.lock();
            try {
                oldest = unacknowledged.isEmpty() ? request.getSequence() : unacknowledged.first();
            } finally {
                sequenceLock.unlock();
            }
            toSend = request.toBuilder().setAcknowledgedBelow(Math.min(oldest, request.getSequence())).build();
        }
        InetSocketAddress target = target();
        Duration timeout = Duration.ofNanos(Math.min(remainingNanos, config.attemptTimeout().toNanos()));
        CompletableFuture<KvReply> call;
        try {
            call = rpc.call(target, NodeMethods.KV, toSend, timeout);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((reply, failure) -> {
            if (failure != null) {
                forgetLeader(target);
                return retry(request, deadlineNanos, attempt, write, target + ": " + failure.getMessage());
            }
            return switch (reply.getStatus()) {
                case NOT_LEADER -> {
                    InetSocketAddress hint = parseHint(reply.getLeaderAddress());
                    if (hint != null && !hint.equals(target) && attempt < 4) {
                        leader = hint;
                        yield attempt(request, deadlineNanos, attempt + 1, write);
                    }
                    forgetLeader(target);
                    yield retry(request, deadlineNanos, attempt, write, target + ": " + reply.getMessage());
                }
                case UNAVAILABLE, TIMEOUT -> {
                    forgetLeader(target);
                    yield retry(request, deadlineNanos, attempt, write, target + ": " + reply.getStatus() + " " + reply.getMessage());
                }
                case STATUS_UNSPECIFIED, UNRECOGNIZED -> CompletableFuture.<KvReply>failedFuture(new KvClientException(
                        Status.INTERNAL, "reply without a status from " + target, write));
                default -> {
                    leader = target;
                    yield CompletableFuture.completedFuture(reply);
                }
            };
        }).thenCompose(Function.identity());
    }

    private CompletableFuture<KvReply> retry(KvRequest request, long deadlineNanos, int attempt, boolean write,
            String problem) {
        long backoffMillis = Math.min(config.backoffMax().toMillis(), config.backoffInitial().toMillis() << Math.min(attempt, 20));
        long jittered = backoffMillis / 2 + ThreadLocalRandom.current().nextLong(backoffMillis / 2 + 1);
        long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (remainingMillis <= 0) {
            return attempt(request, deadlineNanos, attempt + 1, write, problem);
        }
        Executor later = CompletableFuture.delayedExecutor(Math.min(jittered, remainingMillis), TimeUnit.MILLISECONDS);
        return CompletableFuture.supplyAsync(() -> attempt(request, deadlineNanos, attempt + 1, write, problem), later)
                .thenCompose(Function.identity());
    }

    private InetSocketAddress target() {
        InetSocketAddress known = leader;
        if (known != null) {
            return known;
        }
        List<InetSocketAddress> servers = config.servers();
        return servers.get(Math.floorMod(rotation.getAndIncrement(), servers.size()));
    }

    private void forgetLeader(InetSocketAddress failed) {
        if (failed.equals(leader)) {
            leader = null;
        }
    }

    private static InetSocketAddress parseHint(String address) {
        if (address == null || address.isEmpty()) {
            return null;
        }
        try {
            return MemberAddress.parseHostPort(address);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // ---- administration ----

    /** The status of the node at {@code server}. */
    public NodeStatusReply status(InetSocketAddress server) {
        return awaitRpc(rpc.call(server, NodeMethods.STATUS, NodeStatusRequest.getDefaultInstance(), config.attemptTimeout()));
    }

    /** Adds a node as a learner (promoted to voter by the leader once caught up). */
    public AdminReply addMember(long id, String clientAddress, String peerAddress) {
        return onLeader(NodeMethods.MEMBER_CHANGE, MemberChangeRequest.newBuilder().setKind(MemberChangeRequest.Kind.ADD)
                .setNodeId(id).setClientAddress(clientAddress).setPeerAddress(peerAddress).build());
    }

    public AdminReply removeMember(long id) {
        return onLeader(NodeMethods.MEMBER_CHANGE, MemberChangeRequest.newBuilder()
                .setKind(MemberChangeRequest.Kind.REMOVE).setNodeId(id).build());
    }

    public AdminReply transferLeader(long targetId) {
        return onLeader(NodeMethods.TRANSFER_LEADER, TransferLeaderRequest.newBuilder().setTargetId(targetId).build());
    }

    private <Req extends MessageLite> AdminReply onLeader(RpcMethod<Req, AdminReply> method, Req request) {
        long deadlineNanos = System.nanoTime() + config.deadline().toNanos();
        AdminReply last = null;
        RuntimeException lastFailure = null;
        int attempt = 0;
        while (System.nanoTime() < deadlineNanos) {
            InetSocketAddress target = target();
            try {
                last = awaitRpc(rpc.call(target, method, request, config.attemptTimeout()));
                if (!NOT_LEADER_MESSAGE.equals(last.getMessage())) {
                    leader = target;
                    return last; // Done, or a definite refusal from the leader.
                }
                leader = parseHint(last.getLeaderAddress());
            } catch (RuntimeException e) {
                lastFailure = e;
                forgetLeader(target);
            }
            sleepQuietly(Math.min(config.backoffMax().toMillis(), config.backoffInitial().toMillis() << Math.min(attempt++, 10)));
        }
        if (last != null) {
            return last;
        }
        throw new KvClientException(Status.UNAVAILABLE, "no leader answered " + method.name() + ": " + lastFailure, true);
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
            Throwable cause = e.getCause() instanceof CompletionException c && c.getCause() != null ? c.getCause() : e.getCause();
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

    @Override
    public void close() {
        rpc.close();
    }
}
