package io.loomkv.net.node;

import io.loomkv.core.kv.KvLimits;

/**
 * The keys of a node's {@code .properties} file. The same names, prefixed with {@code --}, are
 * the command-line flags of {@code loomkv server}; a flag overrides the file.
 */
public enum NodeConfigKey {
    NODE_ID("node-id", null, "this node's id (positive)"),
    CLUSTER_ID("cluster-id", "loomkv-local", "cluster id that peers must present"),
    CLIENT_ADDRESS("client-address", null, "host:port for clients"),
    PEER_ADDRESS("peer-address", null, "host:port for peers (Raft traffic)"),
    DATA_DIR("data-dir", null, "directory for the WAL and snapshots (relative to the working directory)"),
    MEMBERS("members", null, "initial members: id=clientHost:port/peerHost:port, comma separated (with join=true: the current members)"),
    JOIN("join", "false", "true when this node is added to a running cluster (ctl member add); it starts with no membership"),
    TICK_INTERVAL_MS("tick-interval-ms", "50", "length of one Raft tick in milliseconds"),
    ELECTION_TIMEOUT_TICKS("election-timeout-ticks", "10", "election timeout in ticks"),
    HEARTBEAT_TICKS("heartbeat-ticks", "1", "heartbeat interval in ticks"),
    SNAPSHOT_THRESHOLD_ENTRIES("snapshot-threshold-entries", "10000", "snapshot after this many applied entries"),
    FSYNC("fsync", "true", "force WAL writes to disk"),
    LEASE_READS("lease-reads", "false", "serve LEASE reads from the leader's lease"),
    MAX_KEY_BYTES("max-key-bytes", String.valueOf(KvLimits.DEFAULT_MAX_KEY_BYTES), "largest key in bytes"),
    MAX_VALUE_BYTES("max-value-bytes", String.valueOf(KvLimits.DEFAULT_MAX_VALUE_BYTES), "largest value in bytes"),
    REQUEST_TIMEOUT_MS("request-timeout-ms", "5000", "a request without an outcome after this long gets TIMEOUT"),
    DATA_GROUPS("data-groups", "1", "data groups (Raft groups holding keys) of a new cluster; the 16384 slots are split evenly over them"),
    REPLICAS_PER_GROUP("replicas-per-group", "0", "stores that host each data group (0: every initial member)"),
    RAFT_WORKERS("raft-workers", String.valueOf(NodeConfig.DEFAULT_RAFT_WORKERS), "threads running the replicas' Raft turns"),
    APPLY_THREADS("apply-threads", String.valueOf(NodeConfig.DEFAULT_APPLY_THREADS), "threads applying committed entries"),
    CLIENT_CERT_FILE("client-cert-file", "", "PEM certificate chain of the client port; set: clients must use TLS"),
    CLIENT_KEY_FILE("client-key-file", "", "PEM private key of client-cert-file"),
    CLIENT_TRUSTED_CA_FILE("client-trusted-ca-file", "", "PEM CA certificates that sign client certificates"),
    CLIENT_CERT_AUTH("client-cert-auth", "false", "true: clients must present a certificate signed by client-trusted-ca-file"),
    PEER_CERT_FILE("peer-cert-file", "", "PEM certificate chain for peer traffic; set: peers use TLS and verify each other"),
    PEER_KEY_FILE("peer-key-file", "", "PEM private key of peer-cert-file"),
    PEER_TRUSTED_CA_FILE("peer-trusted-ca-file", "", "PEM CA certificates that sign the peers' certificates"),
    ENGINE("engine", "memory", "storage engine of the groups' data: memory, rocksdb, btree or bitcask (a data directory keeps its first)"),
    ENGINE_ROCKSDB_BLOCK_CACHE_BYTES("engine.rocksdb.block-cache-bytes", String.valueOf(EngineConfig.DEFAULT_ROCKSDB_BLOCK_CACHE_BYTES),
            "rocksdb: block cache of the whole store in bytes, shared out over the data groups"),
    ENGINE_ROCKSDB_WRITE_BUFFER_BYTES("engine.rocksdb.write-buffer-bytes", String.valueOf(EngineConfig.DEFAULT_ROCKSDB_WRITE_BUFFER_BYTES),
            "rocksdb: memtable size of the whole store in bytes, shared out over the data groups (at least 1 MiB each)"),
    ENGINE_BTREE_CACHE_MB("engine.btree.cache-mb", String.valueOf(EngineConfig.DEFAULT_BTREE_CACHE_MEGABYTES),
            "btree: page cache of the whole store in MiB, shared out over the data groups (at least 1 MiB each)"),
    ENGINE_BITCASK_FILE_BYTES("engine.bitcask.file-bytes", String.valueOf(EngineConfig.DEFAULT_BITCASK_FILE_BYTES),
            "bitcask: size at which a group's data file rolls over to a new one"),
    FRAME_COMPRESSION("frame-compression", "lz4", "lz4: compress frames of 8 KiB and more to peers and clients when that makes them "
            + "smaller; off: never (frames that arrive compressed are read either way)"),
    RESP_ADDRESS("resp-address", "", "host:port for Redis-protocol clients (a Redis Cluster node); empty: off"),
    METRICS_ADDRESS("metrics-address", "", "host:port serving /metrics (Prometheus), /livez, /readyz and /health over HTTP; empty: off"),
    METRICS_TLS("metrics-tls", "false", "true: metrics-address serves HTTPS with client-cert-file (and client-cert-auth)"),
    LOG_FORMAT("log-format", "", "log lines on stderr: text, or json (one JSON object per line, with the MDC); empty: "
            + "as the LOOMKV_LOG_FORMAT environment variable says, else text");

    private final String key;
    private final String defaultValue;
    private final String description;

    NodeConfigKey(String key, String defaultValue, String description) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    /** The name in the properties file (and, with {@code --}, the flag). */
    public String key() {
        return key;
    }

    /** The value used when neither file nor flag sets it; null when the key is required. */
    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** The key with this name, or null. */
    public static NodeConfigKey byKey(String key) {
        for (NodeConfigKey k : values()) {
            if (k.key.equals(key)) {
                return k;
            }
        }
        return null;
    }
}
