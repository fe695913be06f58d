package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Expiry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;

/**
 * String commands: GET, SET, SETNX, GETSET, GETDEL, MGET, MSET, MSETNX, APPEND, STRLEN, GETRANGE.
 * Each maps onto one backend operation where one exists, or onto a compare-and-set loop
 * ({@link ReadModifyWrite}), so it keeps Redis's atomicity; the exceptions (GETDEL, MSET across
 * groups, multi-key MSETNX) are named where they are.
 */
final class StringCommands {
    private StringCommands() {}

    static List<RespCommand> all() {
        return List.of(
                read("get", 2, 1, 1, 1, "1.0.0", "Returns the string value of a key.", StringCommands::get),
                write("set", -3, 1, 1, 1, "1.0.0", "Sets a key (NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL).", StringCommands::set),
                write("setnx", 3, 1, 1, 1, "1.0.0", "Sets a key only when it does not exist.", StringCommands::setNx),
                write("getset", 3, 1, 1, 1, "1.0.0", "Sets a key and returns its previous value.", StringCommands::getSet),
                write("getdel", 2, 1, 1, 1, "6.2.0", "Returns a key's value and deletes it (not atomic, see docs).", StringCommands::getDel),
                read("mget", -2, 1, -1, 1, "1.0.0", "Returns the values of several keys.", StringCommands::mget),
                write("mset", -3, 1, -1, 2, "1.0.1", "Sets several keys (atomic within one group).", StringCommands::mset),
                write("msetnx", -3, 1, -1, 2, "1.0.1", "Sets keys only if none exists (one key only).", StringCommands::msetNx),
                write("append", 3, 1, 1, 1, "2.0.0", "Appends a string to a key's value.", StringCommands::append),
                read("strlen", 2, 1, 1, 1, "2.2.0", "Returns the length of a key's value.", StringCommands::strlen),
                read("getrange", 4, 1, 1, 1, "2.4.0", "Returns a substring of a key's value.", StringCommands::getRange));
    }

    static RespCommand read(String name, int arity, int first, int last, int step, String since, String summary,
            RespCommand.Handler handler) {
        return new RespCommand(name, arity, RespCommand.Kind.READ, first, last, step, "string", since, summary, handler);
    }

    static RespCommand write(String name, int arity, int first, int last, int step, String since, String summary,
            RespCommand.Handler handler) {
        return new RespCommand(name, arity, RespCommand.Kind.WRITE, first, last, step, "string", since, summary, handler);
    }

    static RespReply bulkOrNull(Optional<ByteString> value) {
        return value.<RespReply>map(RespReply.Bulk::new).orElse(RespReply.NULL_BULK);
    }

    private static CompletableFuture<RespReply> get(CommandContext context, List<ByteString> arguments) {
        return context.backend().get(arguments.get(1)).thenApply(StringCommands::bulkOrNull);
    }

    private static CompletableFuture<RespReply> set(CommandContext context, List<ByteString> arguments) {
        SetOptions options = SetOptions.parse(arguments);
        ByteString key = arguments.get(1);
        ByteString value = arguments.get(2);
        RespBackend backend = context.backend();
        int attempts = context.config().maxCasRetries();
        Expiry expiry = options.expiry();
        if (options.ifAbsent()) {
            return backend.compareAndSet(key, Optional.empty(), value, expiry).thenApply(outcome -> options.returnOld()
                    ? (outcome.swapped() ? RespReply.NULL_BULK : bulkOrNull(outcome.current()))
                    : (outcome.swapped() ? RespReply.OK : RespReply.NULL_BULK));
        }
        if (options.ifPresent()) {
            return ReadModifyWrite.apply(backend, key, attempts, expiry, current -> current.map(old -> value))
                    .thenApply(result -> options.returnOld() ? bulkOrNull(result.before())
                            : (result.before().isPresent() ? RespReply.OK : RespReply.NULL_BULK));
        }
        if (options.returnOld()) {
            return ReadModifyWrite.apply(backend, key, attempts, expiry, current -> Optional.of(value))
                    .thenApply(result -> bulkOrNull(result.before()));
        }
        return backend.put(key, value, expiry).thenApply(existed -> RespReply.OK);
    }

    /**
     * SET's options: NX, XX, GET, and at most one of EX, PX, EXAT, PXAT (the key's new deadline)
     * and KEEPTTL (its deadline stays); none of them leaves the key without a deadline.
     */
    record SetOptions(boolean ifAbsent, boolean ifPresent, boolean returnOld, Expiry expiry) {
        static SetOptions parse(List<ByteString> arguments) {
            boolean nx = false;
            boolean xx = false;
            boolean get = false;
            Expiry expiry = null;
            for (int i = 3; i < arguments.size(); i++) {
                String option = RespArgs.lower(arguments.get(i));
                switch (option) {
                    case "nx" -> nx = true;
                    case "xx" -> xx = true;
                    case "get" -> get = true;
                    case "keepttl" -> {
                        if (expiry != null) {
                            throw RespError.syntax();
                        }
                        expiry = Expiry.newBuilder().setKeep(true).build();
                    }
                    case "ex", "px", "exat", "pxat" -> {
                        if (i + 1 == arguments.size() || expiry != null) {
                            throw RespError.syntax();
                        }
                        i++;
                        ExpiryCommands.Unit unit = option.startsWith("e")
                                ? ExpiryCommands.Unit.SECONDS : ExpiryCommands.Unit.MILLISECONDS;
                        expiry = ExpiryCommands.expiry(arguments.get(i), unit, option.endsWith("at"), "set");
                    }
                    default -> throw RespError.syntax();
                }
            }
            if (nx && xx) {
                throw RespError.syntax();
            }
            return new SetOptions(nx, xx, get, expiry == null ? Expiry.getDefaultInstance() : expiry);
        }
    }

    private static CompletableFuture<RespReply> setNx(CommandContext context, List<ByteString> arguments) {
        return context.backend().compareAndSet(arguments.get(1), Optional.empty(), arguments.get(2))
                .thenApply(outcome -> RespReply.integer(outcome.swapped() ? 1 : 0));
    }

    private static CompletableFuture<RespReply> getSet(CommandContext context, List<ByteString> arguments) {
        ByteString value = arguments.get(2);
        return ReadModifyWrite.apply(context.backend(), arguments.get(1), context.config().maxCasRetries(),
                Expiry.getDefaultInstance(),
                current -> Optional.of(value)).thenApply(result -> bulkOrNull(result.before()));
    }

    /**
     * Reads, then deletes. Not atomic: the cluster has no compare-and-delete yet, so a write between
     * the two steps is deleted unseen. Within one connection the pipeline order still holds.
     */
    private static CompletableFuture<RespReply> getDel(CommandContext context, List<ByteString> arguments) {
        ByteString key = arguments.get(1);
        RespBackend backend = context.backend();
        return backend.get(key).thenComposeAsync(value -> value.isEmpty()
                ? CompletableFuture.completedFuture(RespReply.NULL_BULK)
                : backend.delete(key).thenApply(existed -> new RespReply.Bulk(value.get())), BlockingSteps.EXECUTOR);
    }

    private static CompletableFuture<RespReply> mget(CommandContext context, List<ByteString> arguments) {
        return context.backend().multiGet(arguments.subList(1, arguments.size())).thenApply(values -> {
            List<RespReply> replies = new ArrayList<>(values.size());
            values.forEach(v -> replies.add(bulkOrNull(v)));
            return new RespReply.Array(replies);
        });
    }

    /** The key-value pairs of MSET/MSETNX; a key given twice takes its last value, as in Redis. */
    private static SequencedMap<ByteString, ByteString> pairs(List<ByteString> arguments, String name) {
        if (arguments.size() % 2 == 0) {
            throw new RespError(((RespReply.Error) RespDispatcher.wrongArity(name)).text());
        }
        SequencedMap<ByteString, ByteString> entries = new LinkedHashMap<>();
        for (int i = 1; i < arguments.size(); i += 2) {
            entries.put(arguments.get(i), arguments.get(i + 1));
        }
        return entries;
    }

    /** Atomic when the keys share a group (e.g. a hash tag); across groups each group's part is atomic. */
    private static CompletableFuture<RespReply> mset(CommandContext context, List<ByteString> arguments) {
        return context.backend().multiPut(pairs(arguments, "mset")).thenApply(done -> RespReply.OK);
    }

    /**
     * One key (or one key given several times) only: the cluster has no conditional multi-key
     * write, and MSETNX that is not atomic would break its one promise.
     */
    private static CompletableFuture<RespReply> msetNx(CommandContext context, List<ByteString> arguments) {
        SequencedMap<ByteString, ByteString> entries = pairs(arguments, "msetnx");
        if (entries.size() > 1) {
            throw RespError.err("MSETNX of more than one distinct key is not supported yet: loomkv has no conditional"
                    + " multi-key write, and MSETNX must be atomic (nothing was written)");
        }
        var entry = entries.firstEntry();
        return context.backend().compareAndSet(entry.getKey(), Optional.empty(), entry.getValue())
                .thenApply(outcome -> RespReply.integer(outcome.swapped() ? 1 : 0));
    }

    private static CompletableFuture<RespReply> append(CommandContext context, List<ByteString> arguments) {
        return context.backend().append(arguments.get(1), arguments.get(2)).thenApply(RespReply::integer);
    }

    private static CompletableFuture<RespReply> strlen(CommandContext context, List<ByteString> arguments) {
        return context.backend().get(arguments.get(1)).thenApply(v -> RespReply.integer(v.map(ByteString::size).orElse(0)));
    }

    private static CompletableFuture<RespReply> getRange(CommandContext context, List<ByteString> arguments) {
        long start = RespArgs.integer(arguments.get(2));
        long end = RespArgs.integer(arguments.get(3));
        return context.backend().get(arguments.get(1))
                .thenApply(v -> new RespReply.Bulk(range(v.orElse(ByteString.EMPTY), start, end)));
    }

    /** Redis's GETRANGE arithmetic: negative offsets count from the end, both ends inclusive and clamped. */
    static ByteString range(ByteString value, long start, long end) {
        long length = value.size();
        if (start < 0 && end < 0 && start > end) {
            return ByteString.EMPTY;
        }
        if (start < 0) {
            start = length + start;
        }
        if (end < 0) {
            end = length + end;
        }
        start = Math.max(start, 0);
        end = Math.max(end, 0);
        end = Math.min(end, length - 1);
        if (start > end || length == 0) {
            return ByteString.EMPTY;
        }
        return value.substring((int) start, (int) end + 1);
    }
}
