package io.loomkv.bench.kv;

import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.NodeConfigLoader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the bench finds the cluster: a folder of node configs (conf/local-3node: client addresses
 * and cluster id from the *.properties files) or a comma-separated {@code host:port} list (any
 * cluster id accepted). The same rules as {@code ./loomkv ctl --cluster}.
 */
public record ClusterAddresses(List<InetSocketAddress> clientAddresses, String clusterId) {

    public static ClusterAddresses resolve(String spec) throws NodeConfigException, IOException {
        Path folder = Path.of(spec);
        if (Files.isDirectory(folder)) {
            List<Path> files;
            try (Stream<Path> listing = Files.list(folder)) {
                files = listing.filter(p -> p.getFileName().toString().endsWith(".properties")).sorted().toList();
            }
            if (files.isEmpty()) {
                throw new NodeConfigException(folder + ": no *.properties node configs in this folder");
            }
            List<InetSocketAddress> addresses = new ArrayList<>();
            String clusterId = null;
            for (Path file : files) {
                NodeConfig config = NodeConfigLoader.load(file, Map.of());
                addresses.add(config.clientAddress());
                clusterId = clusterId == null ? config.clusterId() : clusterId;
            }
            return new ClusterAddresses(addresses, clusterId);
        }
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                try {
                    addresses.add(MemberAddress.parseHostPort(part.trim()));
                } catch (IllegalArgumentException e) {
                    throw new NodeConfigException("--cluster '" + spec + "' is neither a config folder nor a host:port list: "
                            + e.getMessage());
                }
            }
        }
        if (addresses.isEmpty()) {
            throw new NodeConfigException("--cluster '" + spec + "' names no server");
        }
        return new ClusterAddresses(addresses, "");
    }
}
