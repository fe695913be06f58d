package io.loomkv.engine.btree;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The MVStore settings loomkv exposes. See docs/engines.md for why the defaults are what they are.
 *
 * @param file the store's one file (its directory is created if missing)
 * @param cacheSizeMegabytes MVStore's page cache (pages read from the file, deserialized)
 * @param compress LZF-compress pages on disk
 * @param syncWrites fsync the file after every commit
 * @param compactEveryCommits every this many commits, rewrite the emptiest chunks (MVStore only
 *     reclaims space by compaction; its background thread, which would do it, is off)
 */
public record MvStoreOptions(Path file, int cacheSizeMegabytes, boolean compress, boolean syncWrites, int compactEveryCommits) {
    public static final int DEFAULT_CACHE_SIZE_MEGABYTES = 64;
    public static final int DEFAULT_COMPACT_EVERY_COMMITS = 10_000;

    public MvStoreOptions {
        Objects.requireNonNull(file, "file");
        if (cacheSizeMegabytes < 1 || cacheSizeMegabytes > 65_536) {
            throw new IllegalArgumentException("cacheSizeMegabytes must be in 1..65536, got " + cacheSizeMegabytes);
        }
        if (compactEveryCommits < 1) {
            throw new IllegalArgumentException("compactEveryCommits must be positive, got " + compactEveryCommits);
        }
    }

    /** The defaults, commits not synced (the Raft log is; see {@code PersistentKvEngine}). */
    public static MvStoreOptions defaults(Path file) {
        return new MvStoreOptions(file, DEFAULT_CACHE_SIZE_MEGABYTES, false, false, DEFAULT_COMPACT_EVERY_COMMITS);
    }

    public MvStoreOptions withSyncWrites(boolean sync) {
        return new MvStoreOptions(file, cacheSizeMegabytes, compress, sync, compactEveryCommits);
    }

    public MvStoreOptions withCompress(boolean compressPages) {
        return new MvStoreOptions(file, cacheSizeMegabytes, compressPages, syncWrites, compactEveryCommits);
    }
}
