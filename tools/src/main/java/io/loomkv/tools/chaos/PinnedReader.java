package io.loomkv.tools.chaos;

import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads from one node and never follows a redirect: the behaviour of a client whose idea of the
 * leader is out of date. The {@link io.loomkv.net.client.KvClient} follows NOT_LEADER hints, so
 * after the first redirect it would never again ask a deposed leader that has not noticed yet;
 * this reader keeps asking, which is what a stale read needs to show up. One attempt per read.
 */
final class PinnedReader implements AutoCloseable {
    private final RpcClient rpc;
    private final List<InetSocketAddress> servers;
    private final Duration timeout;

    PinnedReader(List<InetSocketAddress> servers, String clusterId, Duration timeout) {
        this.rpc = new RpcClient(RpcClientConfig.client(clusterId));
        this.servers = List.copyOf(servers);
        this.timeout = timeout;
    }

    int serverCount() {
        return servers.size();
    }

    /**
     * The value of {@code key} as server {@code index} answers it: present or absent, or
     * {@code null} when it gave no answer (not the leader, unavailable, timeout).
     */
    Optional<String> get(int index, String key, ReadConsistency consistency) {
        KvRequest request = KvRequest.newBuilder().setConsistency(consistency)
                .setGet(Get.newBuilder().setKey(ChaosWorkload.bytes(key))).build();
        KvReply reply;
        try {
            reply = rpc.call(servers.get(index), NodeMethods.KV, request, timeout).get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            return null;
        }
        return switch (reply.getStatus()) {
            case OK -> Optional.of(reply.getGet().getValue().toStringUtf8());
            case NOT_FOUND -> Optional.empty();
            default -> null;
        };
    }

    @Override
    public void close() {
        rpc.close();
    }
}
