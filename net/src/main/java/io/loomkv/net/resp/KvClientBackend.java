package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireResult;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.client.KeyTtl;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;

/**
 * The backend of a proxy-style gateway: every operation through the slot-aware {@link KvClient},
 * which finds each key's group leader, retries through elections and keeps writes exactly-once
 * with its sessions. Reads are linearizable.
 */
public final class KvClientBackend implements RespBackend {
    private final KvClient client;

    public KvClientBackend(KvClient client) {
        this.client = client;
    }

    @Override
    public CompletableFuture<Optional<ByteString>> get(ByteString key) {
        return client.executeAsync(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(key)).build()).thenApply(reply ->
                reply.getStatus() == Status.NOT_FOUND ? Optional.empty() : Optional.of(ok(reply).getGet().getValue()));
    }

    @Override
    public CompletableFuture<Boolean> put(ByteString key, ByteString value, Expiry expiry) {
        return client.executeAsync(KvRequest.newBuilder().setPut(Put.newBuilder().setKey(key).setValue(value)
                        .setExpiry(expiry)).build())
                .thenApply(reply -> ok(reply).getPut().getExisted());
    }

    @Override
    public CompletableFuture<ExpireResult> expire(Expire expire) {
        return client.executeAsync(KvRequest.newBuilder().setExpire(expire).build())
                .thenApply(reply -> ok(reply).getExpire());
    }

    @Override
    public CompletableFuture<KeyTtl> ttl(ByteString key) {
        return client.executeAsync(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(key).setWithoutValue(true)).build())
                .thenApply(reply -> reply.getStatus() == Status.NOT_FOUND ? KeyTtl.absent() : KeyTtl.of(ok(reply).getGet()));
    }

    @Override
    public CompletableFuture<Boolean> delete(ByteString key) {
        return client.executeAsync(KvRequest.newBuilder().setDelete(Delete.newBuilder().setKey(key)).build())
                .thenApply(reply -> ok(reply).getDelete().getExisted());
    }

    @Override
    public CompletableFuture<Long> append(ByteString key, ByteString value) {
        return client.executeAsync(KvRequest.newBuilder().setAppend(Append.newBuilder().setKey(key).setValue(value)).build())
                .thenApply(reply -> ok(reply).getAppend().getNewLengthBytes());
    }

    @Override
    public CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue,
            Expiry expiry) {
        CompareAndSet.Builder cas = CompareAndSet.newBuilder().setKey(key).setNewValue(newValue).setExpiry(expiry);
        expected.ifPresentOrElse(cas::setExpectedValue, () -> cas.setExpectAbsent(true));
        return client.executeAsync(KvRequest.newBuilder().setCompareAndSet(cas).build()).thenApply(reply -> {
            if (reply.getStatus() == Status.CAS_FAILED) {
                var result = reply.getCompareAndSet();
                return new CasOutcome(false, result.getCurrentPresent() ? Optional.of(result.getCurrentValue()) : Optional.empty());
            }
            return new CasOutcome(ok(reply).getCompareAndSet().getSwapped(), Optional.empty());
        });
    }

    @Override
    public CompletableFuture<List<Optional<ByteString>>> multiGet(List<ByteString> keys) {
        return client.multiGetAsync(keys, ReadConsistency.LINEARIZABLE).thenApply(result -> result.getEntriesList().stream()
                .map(KvClientBackend::valueOf).toList());
    }

    private static Optional<ByteString> valueOf(MultiGetEntry entry) {
        return entry.getFound() ? Optional.of(entry.getValue()) : Optional.empty();
    }

    @Override
    public CompletableFuture<Void> multiPut(SequencedMap<ByteString, ByteString> entries) {
        return client.multiPutAsync(entries);
    }

    @Override
    public CompletableFuture<ScanPage> scan(ByteString prefix, ByteString resumeAfter, int limit) {
        Scan scan = Scan.newBuilder().setPrefix(prefix).setResumeAfter(resumeAfter).setLimit(limit).build();
        return client.scanAsync(scan, ReadConsistency.LINEARIZABLE).thenApply(result -> new ScanPage(
                result.getEntriesList().stream().map(e -> e.getKey()).toList(), result.getMore(), result.getContinuation()));
    }

    @Override
    public Map<String, String> clusterInfo() {
        SlotLayout layout = client.layout();
        Map<String, String> info = new LinkedHashMap<>();
        info.put("mode", "proxy");
        info.put("layout_version", Long.toString(layout.version()));
        info.put("groups", Integer.toString(layout.groups().size()));
        info.put("stores", Long.toString(layout.groups().stream().flatMap(g -> layout.replicas(g).stream()).distinct().count()));
        return info;
    }

    private static KvReply ok(KvReply reply) {
        if (reply.getStatus() != Status.OK) {
            throw new KvClientException(reply.getStatus(), reply.getMessage(), false);
        }
        return reply;
    }
}
