package io.loomkv.tools;

import io.loomkv.bench.ClientTlsOptions;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.proxy.KvProxy;
import io.loomkv.net.proxy.ProxyConfig;
import io.loomkv.net.resp.RespGateway;
import io.loomkv.net.resp.RespServerConfig;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code loomkv proxy}: a stateless gateway in front of a cluster, speaking loomkv's own client
 * protocol ({@code --listen}, for clients that are not slot-aware), the Redis protocol
 * ({@code --resp-listen}), or both. Each request goes through slot-aware clients to its group's
 * leader, and multi-key requests are split over the groups. Several proxies may run side by side.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "A routing proxy in front of a cluster: loomkv's client protocol (--listen) and/or the Redis protocol"
                + " (--resp-listen). See docs/proxy.md.")
public final class ProxyCommand implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "where loomkv clients (KvClient, ctl, any client that is not slot-aware) connect, e.g. 127.0.0.1:7700")
    String listen;

    @Option(names = "--resp-listen", paramLabel = "HOST:PORT",
            description = "where Redis clients connect, e.g. 127.0.0.1:6379")
    String respListen;

    @Option(names = "--cluster", paramLabel = "FOLDER|HOST:PORT,...", defaultValue = "conf/local-3node",
            description = "a folder of node configs or a list of client addresses (default: ${DEFAULT-VALUE})")
    String cluster;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + ProxyConfig.DEFAULT_MAX_CONNECTIONS,
            description = "--listen: further connections are refused (default: ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--max-in-flight-per-connection", paramLabel = "N",
            defaultValue = "" + ProxyConfig.DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
            description = "--listen: requests one connection may have in flight; more get UNAVAILABLE (default: ${DEFAULT-VALUE})")
    int maxInFlightPerConnection;

    @Option(names = "--max-in-flight", paramLabel = "N", defaultValue = "" + ProxyConfig.DEFAULT_MAX_IN_FLIGHT_TOTAL,
            description = "--listen: requests in flight over all connections; more get UNAVAILABLE (default: ${DEFAULT-VALUE})")
    int maxInFlightTotal;

    @Option(names = "--max-request-bytes", paramLabel = "BYTES", defaultValue = "" + KvLimits.DEFAULT_MAX_REQUEST_BYTES,
            description = "--listen: larger requests get INVALID_ARGUMENT (default: ${DEFAULT-VALUE})")
    int maxRequestBytes;

    @Option(names = "--upstream-clients", paramLabel = "N", defaultValue = "" + ProxyConfig.DEFAULT_UPSTREAM_CLIENTS,
            description = "--listen: slot-aware clients to forward through, each with its own sessions (default: ${DEFAULT-VALUE})")
    int upstreamClients;

    @Mixin
    ClientTlsOptions tls;

    @Mixin
    RespTlsOptions respTls;

    @Mixin
    ListenTlsOptions listenTls;

    @Override
    public Integer call() throws Exception {
        if (listen == null && respListen == null) {
            System.err.println("error: give --listen HOST:PORT (loomkv protocol), --resp-listen HOST:PORT (Redis protocol), or both");
            return 2;
        }
        InetSocketAddress nativeAddress;
        InetSocketAddress respAddress;
        ClusterTarget target;
        TlsContext tlsContext;
        TlsContext respTlsContext;
        TlsContext listenTlsContext;
        ProxyConfig limits;
        try {
            nativeAddress = listen == null ? null : MemberAddress.parseHostPort(listen);
            respAddress = respListen == null ? null : MemberAddress.parseHostPort(respListen);
            limits = ProxyConfig.defaults().withMaxConnections(maxConnections).withMaxInFlight(maxInFlightPerConnection, maxInFlightTotal)
                    .withMaxRequestBytes(maxRequestBytes).withUpstreamClients(upstreamClients);
            target = ClusterTarget.resolve(cluster);
            tlsContext = tls.context();
            respTlsContext = respTls.context();
            listenTlsContext = listenTls.context();
        } catch (IllegalArgumentException | NodeConfigException | IOException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        KvClientConfig clientConfig = KvClientConfig.of(target.clientAddresses(), target.clusterId()).withTls(tlsContext);
        return serve(nativeAddress, respAddress, clientConfig, limits, respTlsContext, listenTlsContext);
    }

    private int serve(InetSocketAddress nativeAddress, InetSocketAddress respAddress, KvClientConfig clientConfig, ProxyConfig limits,
            TlsContext respTlsContext, TlsContext listenTlsContext) throws InterruptedException {
        List<AutoCloseable> running = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            if (nativeAddress != null) {
                KvProxy proxy = start(() -> KvProxy.start(nativeAddress, clientConfig, limits, listenTlsContext), listen);
                running.add(proxy);
                System.out.println("loomkv proxy: loomkv protocol" + (listenTlsContext == null ? "" : " over TLS") + " on "
                        + nativeAddress.getHostString() + ":" + proxy.port()
                        + " for the cluster at " + cluster);
            }
            if (respAddress != null) {
                RespGateway gateway = start(() -> RespGateway.start(respAddress, clientConfig, RespServerConfig.defaults(),
                        respTlsContext), respListen);
                running.add(gateway);
                System.out.println("loomkv proxy: Redis protocol" + (respTlsContext == null ? "" : " over TLS") + " on "
                        + respAddress.getHostString() + ":" + gateway.port()
                        + " for the cluster at " + cluster);
            }
        } catch (IOException e) {
            closeAll(running);
            System.err.println("error: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            closeAll(running);
            stopped.countDown();
        }, "proxy-shutdown"));
        stopped.await();
        return 0;
    }

    private interface Starter<T> {
        T start() throws IOException;
    }

    private static <T> T start(Starter<T> starter, String address) throws IOException {
        try {
            return starter.start();
        } catch (IOException e) {
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    private static void closeAll(List<AutoCloseable> running) {
        for (AutoCloseable closeable : running) {
            try {
                closeable.close();
            } catch (Exception e) {
                System.err.println("error while stopping: " + e);
            }
        }
    }
}
