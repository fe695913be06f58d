package io.loomkv.bench.rpc;

import io.loomkv.bench.LatencyReport;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcEndpoint;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv bench rpc}: echo RPCs over loopback between two processes. The echo server runs
 * in a child JVM started from this JVM's executable and class path; one connection carries
 * {@code --inflight} requests at a time (a closed loop), each with a {@code --body-size} payload.
 */
@Command(name = "rpc", mixinStandardHelpOptions = true, subcommands = RpcEchoServerCommand.class,
        description = "Echo RPC benchmark over loopback between two processes (one connection, a closed loop).")
public final class RpcBenchCommand implements Callable<Integer> {
    @Option(names = "--duration", converter = DurationConverter.class,
            description = "Measured time (default: ${DEFAULT-VALUE}).", defaultValue = "10s")
    private Duration duration;

    @Option(names = "--warmup", converter = DurationConverter.class,
            description = "Unmeasured time first, for the JIT (default: ${DEFAULT-VALUE}).", defaultValue = "3s")
    private Duration warmup;

    @Option(names = "--inflight", description = "Requests outstanding at any time (default: ${DEFAULT-VALUE}).")
    private int inFlight = 64;

    @Option(names = "--body-size", description = "Echo payload bytes (default: ${DEFAULT-VALUE}).")
    private int bodySizeBytes = 128;

    @Option(names = "--connections", description = "Connections to the server (default: ${DEFAULT-VALUE}).")
    private int connections = 1;

    @Option(names = "--server-jvm-opt", description = "Extra JVM option for the server process (repeatable).")
    private List<String> serverJvmOptions = new ArrayList<>();

    @Option(names = "--json", description = "End with one JSON line of the results.")
    private boolean json;

    @Override
    public Integer call() throws Exception {
        if (inFlight < 1 || bodySizeBytes < 0 || connections < 1 || duration.isNegative() || duration.isZero()
                || warmup.isNegative()) {
            System.err.println("loomkv: need --inflight >= 1, --body-size >= 0, --connections >= 1, "
                    + "--duration > 0 and --warmup >= 0");
            return 2;
        }
        PrintStream out = System.out;
        LatencyReport report;
        List<String> jvmOptions = new ArrayList<>(List.of("-Xms256m", "-Xmx512m", "-XX:+UseParallelGC"));
        jvmOptions.addAll(serverJvmOptions);
        try (EchoServerProcess server = EchoServerProcess.start(jvmOptions, Math.max(inFlight, 1024));
                RpcClient client = new RpcClient(RpcClientConfig.client("bench").withConnectionsPerEndpoint(connections)
                        .withMaxInFlightPerConnection(Math.max(inFlight, 1024)))) {
            out.printf("rpc bench: echo server pid %d on 127.0.0.1:%d; %d in flight, %d B bodies, %d connection(s), "
                    + "warmup %d ms, duration %d ms%n", server.pid(), server.port(), inFlight, bodySizeBytes,
                    connections, warmup.toMillis(), duration.toMillis());
            RpcEndpoint endpoint = client.endpoint(new InetSocketAddress("127.0.0.1", server.port()));
            endpoint.connectAll().get(30, TimeUnit.SECONDS);
            EchoLoad load = new EchoLoad(endpoint, bodySizeBytes, 42);
            load.start(inFlight);
            Thread.sleep(warmup.toMillis());
            load.resetCounters();
            long startNanos = System.nanoTime();
            Thread.sleep(duration.toMillis());
            Histogram histogram = load.takeHistogram();
            long operations = load.operations();
            long errors = load.errors();
            long elapsedNanos = System.nanoTime() - startNanos;
            if (!load.stopAndDrain(Duration.ofSeconds(30))) {
                System.err.println("loomkv: some echo calls did not finish after the run");
                errors++;
            }
            report = new LatencyReport("rpc echo (" + inFlight + " in flight, " + bodySizeBytes + " B, "
                    + connections + " connection(s))", histogram, operations, errors, elapsedNanos);
        }
        // Printed after the server process has stopped, so its log lines cannot follow the JSON line.
        report.printSummary(out);
        if (json) {
            out.println(report.toJsonLine());
        }
        out.flush();
        return report.errors() == 0 ? 0 : 1;
    }
}
