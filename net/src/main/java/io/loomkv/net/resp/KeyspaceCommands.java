package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Key-space commands: DEL, UNLINK, EXISTS, TYPE, SCAN, KEYS, DBSIZE, RANDOMKEY. Every key is a string here
 * (hashes, lists and sets come later), so TYPE answers {@code string} or {@code none}.
 */
final class KeyspaceCommands {
    /** Keys per backend scan page when KEYS and DBSIZE walk the key space. */
    private static final int WALK_PAGE_KEYS = 1000;
    /** The largest SCAN COUNT honoured; the cluster's scan pages stop at 10,000 entries. */
    private static final int MAX_SCAN_COUNT = 10_000;
    private static final int DEFAULT_SCAN_COUNT = 10;

    private KeyspaceCommands() {}

    static List<RespCommand> all() {
        return List.of(
                keyed("del", RespCommand.Kind.WRITE, "Deletes keys (each atomically, not all at once).", KeyspaceCommands::delete),
                keyed("unlink", RespCommand.Kind.WRITE, "Deletes keys (as DEL).", KeyspaceCommands::delete),
                keyed("exists", RespCommand.Kind.READ, "Counts the keys that exist.", KeyspaceCommands::exists),
                new RespCommand("type", 2, RespCommand.Kind.READ, 1, 1, 1, "generic", "1.0.0", "Returns the type of a key.",
                        KeyspaceCommands::type),
                walk("scan", -2, "2.8.0", "Iterates over the keys (MATCH, COUNT, TYPE).", KeyspaceCommands::scan),
                walk("keys", 2, "1.0.0", "Returns the keys matching a pattern (bounded).", KeyspaceCommands::keys),
                walk("dbsize", 1, "1.0.0", "Returns the number of keys (bounded).", KeyspaceCommands::dbsize),
                walk("randomkey", 1, "1.0.0", "Returns a random key (not uniformly: see docs/resp.md).",
                        KeyspaceCommands::randomKey));
    }

    private static RespCommand keyed(String name, RespCommand.Kind kind, String summary, RespCommand.Handler handler) {
        return new RespCommand(name, -2, kind, 1, -1, 1, "generic", "1.0.0", summary, handler);
    }

    private static RespCommand walk(String name, int arity, String since, String summary, RespCommand.Handler handler) {
        return new RespCommand(name, arity, RespCommand.Kind.KEYSPACE, 0, 0, 0, "generic", since, summary, handler);
    }

    /**
     * RANDOMKEY: the first key after a random position in the key space (from the first key when
     * none follows it), or nil when there is none. Two scans of one key at most; not uniform (a key
     * after a wide gap in the key order comes up more often), which Redis's sampling is not either.
     */
    private static CompletableFuture<RespReply> randomKey(CommandContext context, List<ByteString> arguments) {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        byte[] position = new byte[1 + random.nextInt(8)];
        random.nextBytes(position);
        RespBackend backend = context.backend();
        return backend.scan(ByteString.EMPTY, ByteString.copyFrom(position), 1).thenComposeAsync(page -> {
            if (!page.keys().isEmpty()) {
                return CompletableFuture.completedFuture((RespReply) new RespReply.Bulk(page.keys().get(0)));
            }
            return backend.scan(ByteString.EMPTY, ByteString.EMPTY, 1).thenApply(first -> first.keys().isEmpty()
                    ? RespReply.NULL_BULK : new RespReply.Bulk(first.keys().get(0)));
        }, BlockingSteps.EXECUTOR);
    }

    /** A key named twice is deleted once, as in Redis (the second finds nothing). */
    private static CompletableFuture<RespReply> delete(CommandContext context, List<ByteString> arguments) {
        List<CompletableFuture<Boolean>> deletes = new ArrayList<>();
        for (ByteString key : new LinkedHashSet<>(arguments.subList(1, arguments.size()))) {
            deletes.add(context.backend().delete(key));
        }
        return CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new))
                .thenApply(done -> RespReply.integer(deletes.stream().filter(CompletableFuture::join).count()));
    }

    /** A key named twice counts twice, as in Redis. */
    private static CompletableFuture<RespReply> exists(CommandContext context, List<ByteString> arguments) {
        return context.backend().multiGet(arguments.subList(1, arguments.size()))
                .thenApply(values -> RespReply.integer(values.stream().filter(v -> v.isPresent()).count()));
    }

    private static CompletableFuture<RespReply> type(CommandContext context, List<ByteString> arguments) {
        return context.backend().get(arguments.get(1))
                .thenApply(v -> new RespReply.SimpleString(v.isPresent() ? "string" : "none"));
    }

    /** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: one backend page of COUNT keys per call. */
    private static CompletableFuture<RespReply> scan(CommandContext context, List<ByteString> arguments) {
        long cursor = parseCursor(arguments.get(1));
        GlobPattern pattern = null;
        long count = DEFAULT_SCAN_COUNT;
        boolean onlyStrings = true;
        for (int i = 2; i < arguments.size(); i += 2) {
            if (i + 1 == arguments.size()) {
                throw RespError.syntax();
            }
            String option = RespArgs.lower(arguments.get(i));
            switch (option) {
                case "match" -> pattern = new GlobPattern(arguments.get(i + 1));
                case "count" -> {
                    count = RespArgs.integer(arguments.get(i + 1));
                    if (count < 1) {
                        throw RespError.syntax();
                    }
                }
                case "type" -> onlyStrings = RespArgs.is(arguments.get(i + 1), "string");
                default -> throw RespError.syntax();
            }
        }
        ByteString resumeAfter = context.cursors().resumeAfter(cursor);
        GlobPattern match = pattern;
        boolean strings = onlyStrings;
        ByteString prefix = match == null ? ByteString.EMPTY : match.literalPrefix();
        return context.backend().scan(prefix, resumeAfter, (int) Math.min(count, MAX_SCAN_COUNT)).thenApply(page -> {
            List<RespReply> keys = new ArrayList<>();
            for (ByteString key : page.keys()) {
                if (strings && (match == null || match.matches(key))) {
                    keys.add(new RespReply.Bulk(key));
                }
            }
            long next = page.more() ? context.cursors().remember(page.continuation()) : 0;
            return new RespReply.Array(List.of(RespReply.bulk(Long.toUnsignedString(next)), new RespReply.Array(keys)));
        });
    }

    /** A cursor as redis-cli and the client libraries send it: an unsigned 64-bit decimal number. */
    private static long parseCursor(ByteString argument) {
        try {
            return Long.parseUnsignedLong(RespArgs.text(argument));
        } catch (NumberFormatException e) {
            throw RespError.err("invalid cursor");
        }
    }

    private static CompletableFuture<RespReply> keys(CommandContext context, List<ByteString> arguments) {
        GlobPattern pattern = new GlobPattern(arguments.get(1));
        int limit = context.config().maxKeysListed();
        List<RespReply> keys = new ArrayList<>();
        return walk(context, pattern.literalPrefix(), ByteString.EMPTY, limit, "KEYS", key -> {
            if (pattern.matches(key)) {
                keys.add(new RespReply.Bulk(key));
            }
        }).thenApply(examined -> new RespReply.Array(keys));
    }

    private static CompletableFuture<RespReply> dbsize(CommandContext context, List<ByteString> arguments) {
        return walk(context, ByteString.EMPTY, ByteString.EMPTY, context.config().maxKeysListed(), "DBSIZE", key -> {})
                .thenApply(RespReply::integer);
    }

    /**
     * Visits every key with {@code prefix}, page by page; completes with the number visited, or
     * fails with an error once more than {@code limit} keys would be visited (the whole key space is
     * too much for one reply: SCAN walks it in steps).
     */
    private static CompletableFuture<Long> walk(CommandContext context, ByteString prefix, ByteString resumeAfter, int limit,
            String command, Consumer<ByteString> visitor) {
        AtomicLong visited = new AtomicLong();
        return walkFrom(context.backend(), prefix, resumeAfter, limit, command, visitor, visited);
    }

    private static CompletableFuture<Long> walkFrom(RespBackend backend, ByteString prefix, ByteString resumeAfter, int limit,
            String command, Consumer<ByteString> visitor, AtomicLong visited) {
        return backend.scan(prefix, resumeAfter, WALK_PAGE_KEYS).thenComposeAsync(page -> {
            if (visited.addAndGet(page.keys().size()) > limit) {
                throw RespError.err(command + " would go over " + limit
                        + " keys, more than one reply may hold here; use SCAN to walk the key space in steps");
            }
            page.keys().forEach(visitor);
            if (!page.more()) {
                return CompletableFuture.completedFuture(visited.get());
            }
            return walkFrom(backend, prefix, page.continuation(), limit, command, visitor, visited);
        }, BlockingSteps.EXECUTOR);
    }
}
