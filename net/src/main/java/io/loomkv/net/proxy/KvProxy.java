package io.loomkv.net.proxy;

import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A routing proxy that speaks loomkv's own client protocol: an unmodified {@link
 * io.loomkv.net.client.KvClient}, or any client that is not slot-aware, connects to it as to a
 * one-store, one-group cluster, and the proxy routes each request by slot to the owning group's
 * leader through slot-aware clients, splitting multi-key requests and scans over the groups.
 * Stateless apart from its client sessions (see {@link ProxySessions}), so several can run side by
 * side. Owns its server and its upstream clients; {@link #close()} stops both.
 *
 * <pre>{@code
 * try (KvProxy proxy = KvProxy.start(new InetSocketAddress("127.0.0.1", 7700),
 *         KvClientConfig.of(List.of(store1, store2, store3), "my-cluster"), ProxyConfig.defaults())) {
 *     proxy.awaitShutdown(); // until close() from elsewhere
 * }
 * }</pre>
 */
public final class KvProxy implements AutoCloseable {
    private final UpstreamClients upstream;
    private final ProxyService service;
    private final RpcServer server;
    private final ExecutorService forwardThreads;
    private final int port;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private KvProxy(UpstreamClients upstream, ProxyService service, RpcServer server, ExecutorService forwardThreads, int port) {
        this.upstream = upstream;
        this.service = service;
        this.server = server;
        this.forwardThreads = forwardThreads;
        this.port = port;
    }

    /**
     * Starts a proxy on {@code listen} (port 0: any free port) in front of the cluster that
     * {@code clientConfig} reaches; callers present that config's cluster id, or none.
     */
    public static KvProxy start(InetSocketAddress listen, KvClientConfig clientConfig, ProxyConfig config) throws IOException {
        return start(listen, clientConfig, config, null);
    }

    /**
     * As {@link #start(InetSocketAddress, KvClientConfig, ProxyConfig)}, its port speaking TLS with
     * {@code tls} (null: plain TCP), as a store's client port does: clients connect with the CA that
     * signed its certificate, and with a client certificate when {@code tls} demands one.
     */
    public static KvProxy start(InetSocketAddress listen, KvClientConfig clientConfig, ProxyConfig config, TlsContext tls)
            throws IOException {
        UpstreamClients upstream = new UpstreamClients(clientConfig, config.upstreamClients());
        ExecutorService forwardThreads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("proxy-forward-", 0).factory());
        try {
            ProxyService service = new ProxyService(config, upstream, forwardThreads);
            RpcServer server = new RpcServer(config.serverConfig(clientConfig.clusterId()).withTls(tls), service.build());
            int port = server.start(listen);
            // The layout names the proxy's address, known only once bound (port 0); a wildcard address
            // is no place to send a client to, so then the layout names none.
            boolean wildcard = listen.getAddress() != null && listen.getAddress().isAnyLocalAddress();
            service.advertise(wildcard ? null : new InetSocketAddress(listen.getAddress(), port));
            return new KvProxy(upstream, service, server, forwardThreads, port);
        } catch (IOException | RuntimeException e) {
            upstream.close();
            forwardThreads.shutdownNow();
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

    /** Requests being worked on now, over all connections. */
    public int requestsInFlight() {
        return service.requestsInFlight();
    }

    /** Client sessions the proxy keeps now. */
    public int sessions() {
        return service.sessions();
    }

    /** Blocks until {@link #close()} (from another thread or a shutdown hook). */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /** Stops the server (answering what it can within its grace), then the upstream clients. Idempotent. */
    @Override
    public void close() {
        if (closing.compareAndSet(false, true)) {
            server.close();
            upstream.close();
            forwardThreads.shutdownNow();
            stopped.countDown();
        }
    }
}
