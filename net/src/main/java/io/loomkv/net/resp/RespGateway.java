package io.loomkv.net.resp;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Redis-protocol gateway in front of a loomkv cluster, like a Codis or Twemproxy proxy: redis-cli,
 * redis-benchmark and any Redis client connect to it; it forwards each command through a
 * slot-aware {@link KvClient}. Owns both; {@link #close()} stops both.
 *
 * <pre>{@code
 * try (RespGateway gateway = RespGateway.start(new InetSocketAddress("127.0.0.1", 6379),
 *         KvClientConfig.of(List.of(store1, store2, store3), "my-cluster"))) {
 *     gateway.awaitShutdown(); // until close() from elsewhere
 * }
 * }</pre>
 */
public final class RespGateway implements AutoCloseable {
    private final KvClient client;
    private final RespServer server;
    private final int port;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private RespGateway(KvClient client, RespServer server, int port) {
        this.client = client;
        this.server = server;
        this.port = port;
    }

    /** Starts a gateway with the default limits on {@code listen} (port 0: any free port). */
    public static RespGateway start(InetSocketAddress listen, KvClientConfig clientConfig) throws IOException {
        return start(listen, clientConfig, RespServerConfig.defaults());
    }

    public static RespGateway start(InetSocketAddress listen, KvClientConfig clientConfig, RespServerConfig serverConfig)
            throws IOException {
        return start(listen, clientConfig, serverConfig, null);
    }

    /**
     * A gateway whose Redis clients connect over TLS with {@code tls} (null: plain TCP); the
     * connections to the cluster use what {@code clientConfig} says, independently.
     */
    public static RespGateway start(InetSocketAddress listen, KvClientConfig clientConfig, RespServerConfig serverConfig,
            TlsContext tls) throws IOException {
        KvClient client = new KvClient(clientConfig);
        RespServer server = new RespServer(serverConfig, new KvClientBackend(client), tls);
        try {
            return new RespGateway(client, server, server.start(listen));
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The port it listens on. */
    public int port() {
        return port;
    }

    public int openConnections() {
        return server.openConnections();
    }

    /** Blocks until {@link #close()} (from another thread or a shutdown hook). */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /** Stops the server (closing its connections), then the client. Idempotent. */
    @Override
    public void close() {
        if (closing.compareAndSet(false, true)) {
            server.close();
            client.close();
            stopped.countDown();
        }
    }

    /** {@code RespGateway LISTEN_HOST:PORT STORE_HOST:PORT[,STORE_HOST:PORT...] [CLUSTER_ID]}. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: RespGateway LISTEN_HOST:PORT STORE_HOST:PORT[,STORE_HOST:PORT...] [CLUSTER_ID]");
            System.exit(2);
        }
        InetSocketAddress listen = MemberAddress.parseHostPort(args[0]);
        List<InetSocketAddress> stores = Arrays.stream(args[1].split(",")).map(MemberAddress::parseHostPort).toList();
        try (RespGateway gateway = start(listen, KvClientConfig.of(stores, args.length == 3 ? args[2] : ""))) {
            System.out.println("resp gateway listening on port " + gateway.port());
            Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "resp-gateway-shutdown"));
            gateway.awaitShutdown();
        }
    }
}
