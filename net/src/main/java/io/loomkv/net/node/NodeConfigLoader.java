package io.loomkv.net.node;

import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Reads a {@link NodeConfig} from a {@code .properties} file plus overrides (the command-line
 * flags). Unknown keys, missing required keys and unparsable values are refused with a message
 * that names the key and the file (or "command line" for a flag).
 */
public final class NodeConfigLoader {
    private static final String COMMAND_LINE = "command line";

    private NodeConfigLoader() {
    }

    /** Loads {@code file} (may be null: flags only) and applies {@code overrides} (key without dashes -> value). */
    public static NodeConfig load(Path file, Map<String, String> overrides) throws NodeConfigException {
        return read(file, overrides).parse();
    }

    /**
     * The {@code log-format} of the same file and overrides ({@code text}, {@code json}, or empty
     * when neither sets it): a setting
     * of the server process, which applies it before the store starts, not of the store.
     */
    public static String logFormat(Path file, Map<String, String> overrides) throws NodeConfigException {
        return read(file, overrides).logFormat();
    }

    private static Parser read(Path file, Map<String, String> overrides) throws NodeConfigException {
        Map<NodeConfigKey, String> values = new EnumMap<>(NodeConfigKey.class);
        Map<NodeConfigKey, String> sources = new EnumMap<>(NodeConfigKey.class);
        if (file != null) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (IOException | IllegalArgumentException e) {
                throw new NodeConfigException(file + ": cannot read config: " + e.getMessage());
            }
            for (String name : properties.stringPropertyNames()) {
                NodeConfigKey key = NodeConfigKey.byKey(name);
                if (key == null) {
                    throw new NodeConfigException(file + ": unknown key '" + name + "'");
                }
                values.put(key, properties.getProperty(name).trim());
                sources.put(key, file.toString());
            }
        }
        for (Map.Entry<String, String> override : overrides.entrySet()) {
            NodeConfigKey key = NodeConfigKey.byKey(override.getKey());
            if (key == null) {
                throw new NodeConfigException(COMMAND_LINE + ": unknown key '" + override.getKey() + "'");
            }
            values.put(key, override.getValue().trim());
            sources.put(key, COMMAND_LINE);
        }
        return new Parser(values, sources, file == null ? COMMAND_LINE : file.toString());
    }

    private static final class Parser {
        private final Map<NodeConfigKey, String> values;
        private final Map<NodeConfigKey, String> sources;
        private final String defaultSource;

        Parser(Map<NodeConfigKey, String> values, Map<NodeConfigKey, String> sources, String defaultSource) {
            this.values = values;
            this.sources = sources;
            this.defaultSource = defaultSource;
        }

        NodeConfig parse() throws NodeConfigException {
            long nodeId = longValue(NodeConfigKey.NODE_ID, 1, Long.MAX_VALUE);
            String clusterId = string(NodeConfigKey.CLUSTER_ID);
            if (clusterId.isBlank()) {
                throw error(NodeConfigKey.CLUSTER_ID, "must not be blank");
            }
            InetSocketAddress client = address(NodeConfigKey.CLIENT_ADDRESS);
            InetSocketAddress peer = address(NodeConfigKey.PEER_ADDRESS);
            Path dataDir = Path.of(string(NodeConfigKey.DATA_DIR));
            boolean join = bool(NodeConfigKey.JOIN);
            List<MemberAddress> members = members(join);
            boolean fsync = bool(NodeConfigKey.FSYNC);
            logFormat(); // Used by the server command before the store starts; refused here like any bad value.
            try {
                return new NodeConfig(nodeId, clusterId, client, peer, dataDir, members, join,
                        (int) longValue(NodeConfigKey.TICK_INTERVAL_MS, 1, 10_000),
                        (int) longValue(NodeConfigKey.ELECTION_TIMEOUT_TICKS, 2, 100_000),
                        (int) longValue(NodeConfigKey.HEARTBEAT_TICKS, 1, 100_000),
                        longValue(NodeConfigKey.SNAPSHOT_THRESHOLD_ENTRIES, 1, Long.MAX_VALUE), fsync,
                        bool(NodeConfigKey.LEASE_READS),
                        (int) longValue(NodeConfigKey.MAX_KEY_BYTES, 1, 64 * 1024),
                        (int) longValue(NodeConfigKey.MAX_VALUE_BYTES, 0, 8 * 1024 * 1024),
                        longValue(NodeConfigKey.REQUEST_TIMEOUT_MS, 1, 3_600_000),
                        (int) longValue(NodeConfigKey.DATA_GROUPS, 1, NodeConfig.MAX_DATA_GROUPS),
                        (int) longValue(NodeConfigKey.REPLICAS_PER_GROUP, 0, 7),
                        (int) longValue(NodeConfigKey.RAFT_WORKERS, 1, 64),
                        (int) longValue(NodeConfigKey.APPLY_THREADS, 1, 64),
                        tls(),
                        engine(),
                        string(NodeConfigKey.RESP_ADDRESS).isBlank() ? null : address(NodeConfigKey.RESP_ADDRESS),
                        optionalAddress(NodeConfigKey.METRICS_ADDRESS),
                        frameCompression());
            } catch (IllegalArgumentException e) {
                throw new NodeConfigException(defaultSource + ": " + e.getMessage());
            }
        }

        /** TLS on the client port when its certificate is set, on the peer port when the peer files are; checked together. */
        private StoreTls tls() throws NodeConfigException {
            Path clientCert = path(NodeConfigKey.CLIENT_CERT_FILE);
            Path clientKey = path(NodeConfigKey.CLIENT_KEY_FILE);
            Path clientCa = path(NodeConfigKey.CLIENT_TRUSTED_CA_FILE);
            boolean clientAuth = bool(NodeConfigKey.CLIENT_CERT_AUTH);
            TlsFiles client = null;
            if (clientCert != null || clientKey != null) {
                if (clientCert == null || clientKey == null) {
                    throw error(clientCert == null ? NodeConfigKey.CLIENT_CERT_FILE : NodeConfigKey.CLIENT_KEY_FILE,
                            "is needed too: TLS on the client port takes a certificate and its key");
                }
                if (clientAuth && clientCa == null) {
                    throw error(NodeConfigKey.CLIENT_TRUSTED_CA_FILE, "is needed with client-cert-auth=true");
                }
                client = TlsFiles.server(clientCert, clientKey, clientCa, clientAuth);
            } else if (clientAuth) {
                throw error(NodeConfigKey.CLIENT_CERT_FILE, "is needed with client-cert-auth=true (TLS on the client port)");
            }
            Path peerCert = path(NodeConfigKey.PEER_CERT_FILE);
            Path peerKey = path(NodeConfigKey.PEER_KEY_FILE);
            Path peerCa = path(NodeConfigKey.PEER_TRUSTED_CA_FILE);
            TlsFiles peer = null;
            if (peerCert != null || peerKey != null || peerCa != null) {
                String why = "is needed too: peer TLS takes a certificate, its key and the CA that signs every peer's "
                        + "certificate (peers verify each other)";
                if (peerCert == null) {
                    throw error(NodeConfigKey.PEER_CERT_FILE, why);
                }
                if (peerKey == null) {
                    throw error(NodeConfigKey.PEER_KEY_FILE, why);
                }
                if (peerCa == null) {
                    throw error(NodeConfigKey.PEER_TRUSTED_CA_FILE, why);
                }
                peer = TlsFiles.server(peerCert, peerKey, peerCa, true);
            }
            boolean metricsHttps = bool(NodeConfigKey.METRICS_TLS);
            if (metricsHttps && client == null) {
                throw error(NodeConfigKey.CLIENT_CERT_FILE, "is needed with metrics-tls=true (HTTPS uses the client port's "
                        + "certificate)");
            }
            return new StoreTls(client, peer, metricsHttps);
        }

        /** {@code text}, {@code json}, or empty (the process's default stays). */
        /** {@code frame-compression}: lz4 (true) or off (false); anything else is refused. */
        boolean frameCompression() throws NodeConfigException {
            String value = string(NodeConfigKey.FRAME_COMPRESSION).toLowerCase(java.util.Locale.ROOT);
            return switch (value) {
                case "lz4" -> true;
                case "off" -> false;
                default -> throw error(NodeConfigKey.FRAME_COMPRESSION, "'" + value + "' is neither lz4 nor off");
            };
        }

        String logFormat() throws NodeConfigException {
            String format = string(NodeConfigKey.LOG_FORMAT).toLowerCase(java.util.Locale.ROOT);
            if (!format.isEmpty() && !format.equals("text") && !format.equals("json")) {
                throw error(NodeConfigKey.LOG_FORMAT, "'" + format + "' is neither text nor json");
            }
            return format;
        }

        /** A file path, or null when the key is empty. */
        private Path path(NodeConfigKey key) throws NodeConfigException {
            String text = string(key).trim();
            return text.isEmpty() ? null : Path.of(text);
        }

        private EngineConfig engine() throws NodeConfigException {
            EngineKind kind;
            try {
                kind = EngineKind.parse(string(NodeConfigKey.ENGINE));
            } catch (IllegalArgumentException e) {
                throw error(NodeConfigKey.ENGINE, e.getMessage());
            }
            return new EngineConfig(kind,
                    longValue(NodeConfigKey.ENGINE_ROCKSDB_BLOCK_CACHE_BYTES, 1L << 20, 1L << 40),
                    longValue(NodeConfigKey.ENGINE_ROCKSDB_WRITE_BUFFER_BYTES, 1L << 20, 1L << 30),
                    (int) longValue(NodeConfigKey.ENGINE_BTREE_CACHE_MB, 1, 65_536),
                    longValue(NodeConfigKey.ENGINE_BITCASK_FILE_BYTES, EngineConfig.MIN_BITCASK_FILE_BYTES, 1L << 40));
        }

        private List<MemberAddress> members(boolean join) throws NodeConfigException {
            String text = string(NodeConfigKey.MEMBERS);
            List<MemberAddress> members = new ArrayList<>();
            for (String part : text.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                try {
                    members.add(MemberAddress.parse(part.trim()));
                } catch (IllegalArgumentException e) {
                    throw error(NodeConfigKey.MEMBERS, e.getMessage());
                }
            }
            if (members.isEmpty()) {
                throw error(NodeConfigKey.MEMBERS, join
                        ? "lists no members: a joining node needs the current members' addresses to reach them"
                        : "lists no members");
            }
            return members;
        }

        private String string(NodeConfigKey key) throws NodeConfigException {
            String value = values.get(key);
            if (value == null) {
                value = key.defaultValue();
            }
            if (value == null) {
                throw new NodeConfigException(defaultSource + ": required key '" + key.key() + "' is missing ("
                        + key.description() + ")");
            }
            return value;
        }

        private long longValue(NodeConfigKey key, long min, long max) throws NodeConfigException {
            String text = string(key);
            long value;
            try {
                value = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw error(key, "'" + text + "' is not a whole number");
            }
            if (value < min || value > max) {
                throw error(key, value + " is outside " + min + ".." + max);
            }
            return value;
        }

        private boolean bool(NodeConfigKey key) throws NodeConfigException {
            String text = string(key);
            return switch (text.toLowerCase(java.util.Locale.ROOT)) {
                case "true", "on", "yes" -> true;
                case "false", "off", "no" -> false;
                default -> throw error(key, "'" + text + "' is not true or false");
            };
        }

        private InetSocketAddress address(NodeConfigKey key) throws NodeConfigException {
            try {
                return MemberAddress.parseHostPort(string(key));
            } catch (IllegalArgumentException e) {
                throw error(key, e.getMessage());
            }
        }

        /** Null when empty (the feature is off). */
        private InetSocketAddress optionalAddress(NodeConfigKey key) throws NodeConfigException {
            return string(key).isEmpty() ? null : address(key);
        }

        private NodeConfigException error(NodeConfigKey key, String what) {
            return new NodeConfigException(sources.getOrDefault(key, defaultSource) + ": key '" + key.key() + "': " + what);
        }
    }
}
