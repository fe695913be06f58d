package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.node.ShardedTestCluster;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once through the proxy, with the raw protocol so the retries are ours: copies of one
 * write (the same session, sequence and operation) sent together and again after the answer
 * append once and all get the first reply; an acknowledged sequence is stale; a session is known
 * only to the proxy that opened it, so a second proxy side by side refuses it (SESSION_EXPIRED,
 * nothing applied) instead of applying a copy again; a write without a session is refused.
 */
class ProxyExactlyOnceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void retriedWriteThroughTheProxyIsAppliedOnce() throws Exception {
        try (ShardedTestCluster cluster = ShardedTestCluster.start(dir, 3, 3);
                KvProxy proxy = ProxyTests.startProxy(cluster, ProxyConfig.defaults());
                KvProxy other = ProxyTests.startProxy(cluster, ProxyConfig.defaults());
                KvClient direct = cluster.client();
                RpcClient rpc = new RpcClient(RpcClientConfig.client(ShardedTestCluster.CLUSTER_ID))) {
            InetSocketAddress at = new InetSocketAddress("127.0.0.1", proxy.port());
            InetSocketAddress atOther = new InetSocketAddress("127.0.0.1", other.port());
            KvReply opened = call(rpc, at, KvRequest.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build());
            assertEquals(Status.OK, opened.getStatus(), opened.getMessage());
            long session = opened.getOpenSession().getClientId();
            String key = cluster.keyIn(2, "once");

            KvRequest first = append(session, 1, 1, key, "x");
            CompletableFuture<KvReply> one = rpc.call(at, NodeMethods.KV, first, TIMEOUT);
            CompletableFuture<KvReply> copy = rpc.call(at, NodeMethods.KV, first, TIMEOUT);
            assertEquals(1, one.get().getAppend().getNewLengthBytes(), one.get().getMessage());
            assertEquals(one.get(), copy.get(), "a copy sent while the first was in flight gets the first's reply");
            assertEquals(one.get(), call(rpc, at, first), "a copy sent after the answer gets the first's reply");
            assertEquals("x", direct.get(key).orElseThrow(), "three copies, one append");

            KvReply second = call(rpc, at, append(session, 2, 2, key, "y"));
            assertEquals(2, second.getAppend().getNewLengthBytes(), second.getMessage());
            KvReply stale = call(rpc, at, append(session, 1, 1, key, "x")); // a late copy of write 1
            assertEquals(Status.STALE_SEQUENCE, stale.getStatus(), stale.getMessage());

            KvReply elsewhere = call(rpc, atOther, append(session, 3, 3, key, "z"));
            assertEquals(Status.SESSION_EXPIRED, elsewhere.getStatus(), elsewhere.getMessage());
            assertTrue(elsewhere.getMessage().contains("not applied"), elsewhere.getMessage());
            KvReply sessionless = call(rpc, at, append(0, 1, 1, key, "z"));
            assertEquals(Status.INVALID_ARGUMENT, sessionless.getStatus());
            assertTrue(sessionless.getMessage().contains("OpenSession"), sessionless.getMessage());
            assertEquals("xy", direct.get(key).orElseThrow(), "refused writes change nothing");
        }
    }

    private static KvRequest append(long session, long sequence, long acknowledgedBelow, String key, String value) {
        return KvRequest.newBuilder().setClientId(session).setSequence(sequence).setAcknowledgedBelow(acknowledgedBelow)
                .setAppend(Append.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)))
                .build();
    }

    private static KvReply call(RpcClient rpc, InetSocketAddress at, KvRequest request) throws Exception {
        return rpc.call(at, NodeMethods.KV, request, TIMEOUT).get();
    }
}
