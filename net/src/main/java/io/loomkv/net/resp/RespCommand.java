package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One command of the table: its arity and key positions in Redis's terms (so {@code COMMAND}
 * describes it as Redis would), how it is ordered against the commands pipelined around it, and
 * what runs it.
 *
 * @param name lower case, as {@code COMMAND} lists it
 * @param arity Redis's convention: N means exactly N arguments including the name, -N at least N
 * @param firstKey position of the first key (0: no keys)
 * @param lastKey position of the last key; -1 the last argument
 * @param keyStep distance between keys (2 for MSET's key-value pairs)
 */
record RespCommand(String name, int arity, Kind kind, int firstKey, int lastKey, int keyStep, String group, String since,
        String summary, Handler handler) {

    /** How a command is ordered against the others of its connection's pipeline. */
    enum Kind {
        /** Answered from the connection's own state, at once, in the reader (may change the session). */
        LOCAL,
        /** Reads its keys: waits for earlier commands of the connection that touch the same keys. */
        READ,
        /** Writes its keys: waits like a read, and later commands on its keys wait for it. */
        WRITE,
        /** Walks the key space (SCAN, KEYS, DBSIZE): waits for every earlier command, and every later one waits for it. */
        KEYSPACE
    }

    /** Runs the command; a failure with {@link RespError} is answered as that error. */
    @FunctionalInterface
    interface Handler {
        CompletableFuture<RespReply> run(CommandContext context, List<ByteString> arguments);
    }

    RespCommand {
        if (!name.equals(name.toLowerCase(java.util.Locale.ROOT)) || arity == 0 || keyStep < 0 || firstKey < 0) {
            throw new IllegalArgumentException("bad command spec " + name + " arity=" + arity + " keys=" + firstKey + ","
                    + lastKey + "," + keyStep);
        }
    }

    boolean arityAccepts(int argumentCount) {
        return arity > 0 ? argumentCount == arity : argumentCount >= -arity;
    }

    /** The keys among {@code arguments} (already arity-checked). */
    List<ByteString> keys(List<ByteString> arguments) {
        if (firstKey == 0) {
            return List.of();
        }
        int last = lastKey < 0 ? arguments.size() + lastKey : lastKey;
        List<ByteString> keys = new ArrayList<>();
        for (int i = firstKey; i <= last && i < arguments.size(); i += keyStep) {
            keys.add(arguments.get(i));
        }
        return keys;
    }

    static RespCommand local(String name, int arity, String group, String since, String summary, Handler handler) {
        return new RespCommand(name, arity, Kind.LOCAL, 0, 0, 0, group, since, summary, handler);
    }
}
