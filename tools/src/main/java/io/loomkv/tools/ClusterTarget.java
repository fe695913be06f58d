package io.loomkv.tools;

import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the CLI finds a cluster: either a folder of node configs (conf/local-3node) or a
 * comma-separated {@code host:port} list of client addresses.
 *
 * @param configs the node configs when given a folder (in file-name order), else empty
 */
record ClusterTarget(List<InetSocketAddress> clientAddresses, String clusterId, List<NodeConfig> configs, List<Path> configFiles) {

    static ClusterTarget resolve(String spec) throws NodeConfigException, IOException {
        Path folder = Path.of(spec);
        if (Files.isDirectory(folder)) {
            return fromFolder(folder);
        }
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                try {
                    addresses.add(MemberAddress.parseHostPort(part));
                } catch (IllegalArgumentException e) {
                    throw new NodeConfigException("--cluster '" + spec + "' is neither a config folder nor a host:port list: "
                            + e.getMessage());
                }
            }
        }
        if (addresses.isEmpty()) {
            throw new NodeConfigException("--cluster '" + spec + "' names no server");
        }
        return new ClusterTarget(addresses, "", List.of(), List.of());
    }

    static ClusterTarget fromFolder(Path folder) throws NodeConfigException, IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(folder)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(".properties")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new NodeConfigException(folder + ": no *.properties node configs in this folder");
        }
        List<NodeConfig> configs = new ArrayList<>();
        for (Path file : files) {
            configs.add(NodeConfigLoader.load(file, Map.of()));
        }
        String clusterId = configs.get(0).clusterId();
        return new ClusterTarget(configs.stream().map(NodeConfig::clientAddress).toList(), clusterId, configs, files);
    }

    /**
     * The TLS the CLI uses on its own for a config folder whose stores serve TLS on the client
     * port: it trusts their {@code client-trusted-ca-file} and presents the store's own
     * certificate (the CLI runs where the stores' files are, as {@code cluster up} does; the
     * certificate then needs the clientAuth key usage). Null for plain TCP or a host:port list
     * (there, --cacert/--cert/--key say it).
     */
    TlsContext localTls() throws IOException {
        if (configs.isEmpty() || configs.get(0).tls().client() == null) {
            return null;
        }
        TlsFiles served = configs.get(0).tls().client();
        if (served.trustedCaFile() == null) {
            throw new IOException(configFiles.get(0) + " serves TLS to clients without client-trusted-ca-file: pass --cacert "
                    + "with the CA that signed the stores' certificates");
        }
        return TlsContext.load(TlsFiles.client(served.trustedCaFile(), served.certFile(), served.keyFile()), "local cluster");
    }

    /** A client configuration for this cluster, with {@link #localTls()}. */
    KvClientConfig clientConfig() throws IOException {
        return KvClientConfig.of(clientAddresses, clusterId).withTls(localTls());
    }
}
