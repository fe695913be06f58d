package io.loomkv.tools;

import io.loomkv.bench.ClientTlsOptions;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.resp.RespGateway;
import io.loomkv.net.resp.RespServerConfig;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code loomkv proxy}: a stateless gateway in front of a cluster. For now it speaks the Redis
 * protocol ({@code --resp-listen}): each command goes through the slot-aware client to its group's
 * leader, and multi-key commands are split over the groups. Several proxies may run side by side.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "A Redis-protocol gateway in front of a cluster (redis-cli, Jedis, any Redis client).")
public final class ProxyCommand implements Callable<Integer> {
    @Option(names = "--resp-listen", required = true, paramLabel = "HOST:PORT",
            description = "where Redis clients connect, e.g. 127.0.0.1:6379")
    String respListen;

    @Option(names = "--cluster", paramLabel = "FOLDER|HOST:PORT,...", defaultValue = "conf/local-3node",
            description = "a folder of node configs or a list of client addresses (default: ${DEFAULT-VALUE})")
    String cluster;

    @Mixin
    ClientTlsOptions tls;

    @Mixin
    RespTlsOptions respTls;

    @Override
    public Integer call() throws Exception {
        InetSocketAddress listen;
        ClusterTarget target;
        TlsContext tlsContext;
        TlsContext respTlsContext;
        try {
            listen = MemberAddress.parseHostPort(respListen);
            target = ClusterTarget.resolve(cluster);
            tlsContext = tls.context();
            respTlsContext = respTls.context();
        } catch (IllegalArgumentException | NodeConfigException | IOException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        try (RespGateway gateway = RespGateway.start(listen,
                KvClientConfig.of(target.clientAddresses(), target.clusterId()).withTls(tlsContext), RespServerConfig.defaults(),
                respTlsContext)) {
            Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "proxy-shutdown"));
            System.out.println("loomkv proxy: Redis protocol" + (respTlsContext == null ? "" : " over TLS") + " on "
                    + listen.getHostString() + ":" + gateway.port()
                    + " for the cluster at " + cluster);
            gateway.awaitShutdown();
        } catch (IOException e) {
            System.err.println("error: cannot listen on " + respListen + ": " + e.getMessage());
            return 1;
        }
        return 0;
    }
}
