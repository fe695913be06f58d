package io.loomkv.bench.rpc;

import io.loomkv.net.rpc.EchoService;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.rpc.RpcServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The echo server half of {@code loomkv bench rpc}, run as a child process. It prints
 * {@code LISTENING <port>} on stdout once it accepts connections and exits when its stdin closes,
 * so it cannot outlive the bench that started it.
 */
@Command(name = "echo-server", hidden = true, mixinStandardHelpOptions = true,
        description = "Internal: the echo server process of the rpc bench; stops when stdin closes.")
public final class RpcEchoServerCommand implements Callable<Integer> {
    /** The line the parent waits for. */
    static final String READY_PREFIX = "LISTENING ";

    @Option(names = "--cluster", description = "Cluster id (default: ${DEFAULT-VALUE}).")
    private String clusterId = "bench";

    @Option(names = "--port", description = "Port to bind on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--max-in-flight", description = "Server in-flight limit per connection (default: ${DEFAULT-VALUE}).")
    private int maxInFlight = RpcServerConfig.DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION;

    public static void main(String[] args) {
        System.exit(new CommandLine(new RpcEchoServerCommand()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        RpcServerConfig config = RpcServerConfig.defaults(clusterId).withMaxInFlightPerConnection(maxInFlight);
        RpcServer server = new RpcServer(config, EchoService.register(RpcHandlers.builder()).build());
        int bound = server.start(new InetSocketAddress("127.0.0.1", port));
        System.out.println(READY_PREFIX + bound);
        System.out.flush();
        try {
            waitForEndOfInput(System.in);
        } finally {
            server.shutdown(Duration.ofSeconds(2));
        }
        return 0;
    }

    private static void waitForEndOfInput(InputStream in) throws IOException {
        byte[] sink = new byte[256];
        while (in.read(sink) >= 0) {
            // Nothing is sent on stdin; end of stream means the parent is done (or gone).
        }
    }
}
