package io.loomkv.tools.k8s;

import io.loomkv.net.node.NodeConfigKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A store's node config derived from its place in a Kubernetes StatefulSet: pod {@code NAME-K}
 * is node {@code K + 1}, and the initial members are the set's {@code replicas} pods at their
 * stable DNS names under the headless service, {@code NAME-K.SERVICE.NAMESPACE.svc.DOMAIN}.
 * Every pod derives the same member list, so a new cluster needs no per-pod configuration.
 *
 * <p>{@code hostTemplate} makes the host names a parameter ({@code {name} {ordinal} {id}
 * {service} {namespace} {domain}}): docker-compose uses {@code {name}-{ordinal}}, and a test
 * uses {@code 127.0.0.{id}}, distinct loopback addresses with the same ports, as the pods have.
 *
 * @param hostname       the pod's host name, {@code NAME-ORDINAL} (a StatefulSet sets it)
 * @param replicas       the StatefulSet's initial replica count: the initial members
 * @param metricsPort    the port of the metrics and health endpoints on every interface (the
 *                       kubelet probes the pod's IP), or 0 for none; rendered only when this build
 *                       has the {@code metrics-address} key ({@link #METRICS_ADDRESS_KEY})
 * @param extra          further config keys ({@code data-groups}, ...), each a {@link NodeConfigKey}
 */
public record K8sNodeConfig(String hostname, int replicas, String service, String namespace, String clusterDomain,
        String hostTemplate, int clientPort, int peerPort, int metricsPort, String dataDirectory, String clusterId,
        Map<String, String> extra) {
    public static final String DEFAULT_HOST_TEMPLATE = "{name}-{ordinal}.{service}.{namespace}.svc.{domain}";
    /** Raft groups are at most 7 replicas (replicas-per-group); an initial member list is kept as small. */
    public static final int MAX_REPLICAS = 7;
    /** The config key of the metrics and health endpoints (issue 17; added to NodeConfigKey with them). */
    public static final String METRICS_ADDRESS_KEY = "metrics-address";
    private static final Pattern POD_NAME = Pattern.compile("([a-z0-9]([-a-z0-9]*[a-z0-9])?)-([0-9]{1,4})");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    /** Keys the renderer derives itself; --set may not override them. */
    private static final List<NodeConfigKey> DERIVED = List.of(NodeConfigKey.NODE_ID, NodeConfigKey.CLUSTER_ID,
            NodeConfigKey.CLIENT_ADDRESS, NodeConfigKey.PEER_ADDRESS, NodeConfigKey.DATA_DIR, NodeConfigKey.MEMBERS,
            NodeConfigKey.JOIN);

    public K8sNodeConfig {
        extra = Map.copyOf(extra);
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("--replicas " + replicas + " is outside 1.." + MAX_REPLICAS);
        }
        requireLabel("--service", service);
        requireLabel("--namespace", namespace);
        if (clientPort < 1 || clientPort > 65_535 || peerPort < 1 || peerPort > 65_535 || clientPort == peerPort) {
            throw new IllegalArgumentException("client port " + clientPort + " and peer port " + peerPort
                    + " must be distinct ports in 1..65535");
        }
        if (metricsPort < 0 || metricsPort > 65_535 || metricsPort == clientPort || metricsPort == peerPort) {
            throw new IllegalArgumentException("metrics port " + metricsPort + " must be 0 (none) or a port in 1..65535 other than "
                    + clientPort + " and " + peerPort);
        }
        if (dataDirectory.isBlank()) {
            throw new IllegalArgumentException("--data-dir must not be blank");
        }
        for (String key : extra.keySet()) {
            NodeConfigKey known = NodeConfigKey.byKey(key);
            if (known == null) {
                throw new IllegalArgumentException("--set " + key + ": not a config key");
            }
            if (DERIVED.contains(known)) {
                throw new IllegalArgumentException("--set " + key + ": derived from the pod's ordinal, not settable");
            }
        }
        ordinal(hostname, replicas);
    }

    private static void requireLabel(String flag, String value) {
        if (value == null || !DNS_LABEL.matcher(value).matches() || value.length() > 63) {
            throw new IllegalArgumentException(flag + " '" + value + "' is not a DNS label (lower case letters, digits, '-')");
        }
    }

    /** The StatefulSet's name: the host name without its ordinal. */
    public String setName() {
        Matcher m = POD_NAME.matcher(hostname);
        if (!m.matches()) {
            throw new IllegalStateException("checked in the constructor");
        }
        return m.group(1);
    }

    /** The pod's ordinal (0-based), checked to be one of the {@code replicas} initial members. */
    public int ordinal() {
        return ordinal(hostname, replicas);
    }

    private static int ordinal(String hostname, int replicas) {
        Matcher m = hostname == null ? null : POD_NAME.matcher(hostname);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("host name '" + hostname + "' is not NAME-ORDINAL, as a StatefulSet's pods are named");
        }
        int ordinal = Integer.parseInt(m.group(3));
        if (ordinal >= replicas) {
            throw new IllegalArgumentException("pod " + hostname + " has ordinal " + ordinal + ", beyond the " + replicas
                    + " initial members: a store added later joins with 'ctl member add' (docs/deployment.md)");
        }
        return ordinal;
    }

    /** The host of the pod with {@code ordinal}, from the template. */
    public String host(int ordinal) {
        String host = hostTemplate.replace("{name}", setName()).replace("{ordinal}", Integer.toString(ordinal))
                .replace("{id}", Integer.toString(ordinal + 1)).replace("{service}", service)
                .replace("{namespace}", namespace).replace("{domain}", clusterDomain);
        if (host.isBlank() || host.contains("{") || host.contains("}") || host.contains(":") || host.contains("/")
                || host.contains(",") || host.contains("=")) {
            throw new IllegalArgumentException("--host-template '" + hostTemplate + "' gives host '" + host
                    + "' (placeholders: {name} {ordinal} {id} {service} {namespace} {domain})");
        }
        return host;
    }

    /** The members every pod derives: {@code id=host:clientPort/host:peerPort} for ordinals 0..replicas-1. */
    public List<String> members() {
        List<String> members = new ArrayList<>();
        for (int k = 0; k < replicas; k++) {
            members.add((k + 1) + "=" + host(k) + ":" + clientPort + "/" + host(k) + ":" + peerPort);
        }
        return members;
    }

    /** The config keys and values, in the order the file lists them. */
    public Map<String, String> properties() {
        int ordinal = ordinal();
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put(NodeConfigKey.NODE_ID.key(), Integer.toString(ordinal + 1));
        properties.put(NodeConfigKey.CLUSTER_ID.key(), clusterId.isBlank() ? setName() : clusterId);
        properties.put(NodeConfigKey.CLIENT_ADDRESS.key(), host(ordinal) + ":" + clientPort);
        properties.put(NodeConfigKey.PEER_ADDRESS.key(), host(ordinal) + ":" + peerPort);
        properties.put(NodeConfigKey.DATA_DIR.key(), dataDirectory);
        properties.put(NodeConfigKey.MEMBERS.key(), String.join(",", members()));
        if (rendersMetricsAddress()) {
            properties.put(METRICS_ADDRESS_KEY, "0.0.0.0:" + metricsPort);
        }
        extra.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> properties.put(e.getKey(), e.getValue()));
        return properties;
    }

    /** Whether {@link #properties()} sets {@code metrics-address}: a port was asked for and the key exists. */
    public boolean rendersMetricsAddress() {
        return metricsPort != 0 && NodeConfigKey.byKey(METRICS_ADDRESS_KEY) != null;
    }

    /** The {@code .properties} file's text. */
    public String render() {
        StringBuilder text = new StringBuilder("# Rendered by 'loomkv k8s-config' for pod " + hostname + " (node "
                + (ordinal() + 1) + " of " + replicas + ").\n");
        properties().forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        return text.toString();
    }
}
