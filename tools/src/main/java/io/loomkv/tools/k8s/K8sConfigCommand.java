package io.loomkv.tools.k8s;

import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.NodeConfigLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv k8s-config}: renders this pod's node config from its StatefulSet ordinal (see
 * {@link K8sNodeConfig}); ops/k8s runs it in an init container, docker-compose before the server.
 * With {@code --wait-dns-seconds} it first waits until every member's host name resolves: peers
 * are dialled by the addresses resolved when the config is loaded, so a store started before its
 * peers' DNS records exist would keep dialling nothing.
 */
@Command(name = "k8s-config", mixinStandardHelpOptions = true,
        description = "Render a node config (.properties) from the pod's StatefulSet ordinal and the headless service's DNS names.")
public final class K8sConfigCommand implements Callable<Integer> {
    @Option(names = "--hostname", paramLabel = "NAME-ORDINAL", defaultValue = "${env:HOSTNAME}",
            description = "the pod's host name (default: $HOSTNAME, else the machine's host name)")
    String hostname;

    @Option(names = "--replicas", required = true, description = "the StatefulSet's initial replicas (the initial members)")
    int replicas;

    @Option(names = "--service", defaultValue = "loomkv-peers", description = "the headless service (default: ${DEFAULT-VALUE})")
    String service;

    @Option(names = "--namespace", defaultValue = "${env:POD_NAMESPACE:-default}",
            description = "the namespace (default: $POD_NAMESPACE, else default)")
    String namespace;

    @Option(names = "--cluster-domain", defaultValue = "cluster.local", description = "default: ${DEFAULT-VALUE}")
    String clusterDomain;

    @Option(names = "--host-template", defaultValue = K8sNodeConfig.DEFAULT_HOST_TEMPLATE,
            description = "a member's host name; placeholders {name} {ordinal} {id} {service} {namespace} {domain} (default: ${DEFAULT-VALUE})")
    String hostTemplate;

    @Option(names = "--client-port", defaultValue = "2379", description = "default: ${DEFAULT-VALUE}")
    int clientPort;

    @Option(names = "--peer-port", defaultValue = "2380", description = "default: ${DEFAULT-VALUE}")
    int peerPort;

    @Option(names = "--metrics-port", defaultValue = "2381",
            description = "metrics and health endpoints on 0.0.0.0:PORT, for the probes; 0: none (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--data-dir", defaultValue = "/var/lib/loomkv/data", description = "default: ${DEFAULT-VALUE}")
    String dataDirectory;

    @Option(names = "--cluster-id", defaultValue = "", description = "default: the StatefulSet's name")
    String clusterId;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "another config key, e.g. --set data-groups=16 (repeatable)")
    Map<String, String> extra = new LinkedHashMap<>();

    @Option(names = "--wait-dns-seconds", defaultValue = "0",
            description = "first wait up to this long until every member's host name resolves (default: ${DEFAULT-VALUE})")
    int waitDnsSeconds;

    @Option(names = "--out", paramLabel = "FILE", description = "write the config here (default: standard output)")
    Path out;

    @Override
    public Integer call() throws IOException, InterruptedException {
        K8sNodeConfig config;
        try {
            config = new K8sNodeConfig(hostname != null ? hostname : machineHostName(), replicas, service, namespace,
                    clusterDomain, hostTemplate, clientPort, peerPort, metricsPort, dataDirectory, clusterId, extra);
            // The same checks the server makes, so a bad --set fails here rather than in a crash-looping pod.
            NodeConfigLoader.load(null, config.properties());
        } catch (IllegalArgumentException | NodeConfigException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        if (metricsPort != 0 && !config.rendersMetricsAddress()) {
            System.err.println("warning: this build has no '" + K8sNodeConfig.METRICS_ADDRESS_KEY
                    + "' config key; the config serves no health endpoints for the probes");
        }
        if (waitDnsSeconds > 0) {
            List<String> unresolved = awaitResolved(config, waitDnsSeconds * 1_000_000_000L);
            if (!unresolved.isEmpty()) {
                System.err.println("error: after " + waitDnsSeconds + " s these members' host names still do not resolve: "
                        + String.join(", ", unresolved) + " (is the headless service's publishNotReadyAddresses true?)");
                return 1;
            }
        }
        String text = config.render();
        if (out == null) {
            System.out.print(text);
        } else {
            Path partial = out.resolveSibling(out.getFileName() + ".partial");
            Files.writeString(partial, text, StandardCharsets.UTF_8);
            Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            System.err.println("wrote " + out + " for node " + (config.ordinal() + 1) + " of " + replicas);
        }
        return 0;
    }

    /** This machine's short host name: $HOSTNAME is a shell variable that a shell need not export. */
    private static String machineHostName() {
        try {
            String name = InetAddress.getLocalHost().getHostName();
            int dot = name.indexOf('.');
            return dot > 0 ? name.substring(0, dot) : name;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--hostname is not given and this machine's host name is unknown: " + e.getMessage());
        }
    }

    /** The member hosts that do not resolve by the deadline (empty once they all do). */
    private static List<String> awaitResolved(K8sNodeConfig config, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            List<String> unresolved = new ArrayList<>();
            for (int k = 0; k < config.replicas(); k++) {
                try {
                    InetAddress.getByName(config.host(k));
                } catch (UnknownHostException e) {
                    unresolved.add(config.host(k));
                }
            }
            if (unresolved.isEmpty() || System.nanoTime() >= deadline) {
                return unresolved;
            }
            Thread.sleep(1000);
        }
    }
}
