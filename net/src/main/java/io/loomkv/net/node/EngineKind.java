package io.loomkv.net.node;

import java.util.Locale;

/** The storage engines a store can keep its groups' data in ({@code engine=} in the node config). */
public enum EngineKind {
    /** A skip list on the heap; restarts from the newest snapshot plus the log. */
    MEMORY,
    /** RocksDB (LSM tree), one database per group. */
    ROCKSDB,
    /** H2's MVStore (copy-on-write B+tree), one file per group. */
    BTREE,
    /** loomkv's BitCask (append-only files, key directory on the heap), one directory per group. */
    BITCASK;

    /** The name in configs and in a data directory's engine file. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The engine called {@code name}; IllegalArgumentException naming the choices when there is none. */
    public static EngineKind parse(String name) {
        for (EngineKind kind : values()) {
            if (kind.configName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "'; choose memory, rocksdb, btree or bitcask");
    }
}
