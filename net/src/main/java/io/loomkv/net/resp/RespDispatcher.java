package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClientException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one parsed request into its reply: looks the command up, checks its arity with Redis's
 * texts, orders it against the connection's pipeline ({@link PipelineOrder}) and runs it. One per
 * connection, used by its reader thread.
 */
final class RespDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(RespDispatcher.class);
    /** Redis shows at most this many characters of an unknown command and of its arguments. */
    private static final int SHOWN_CHARS = 128;

    private final CommandContext context;
    private final PipelineOrder order = new PipelineOrder();

    /** The connection has closed: its backend may keep what it held for later ones. */
    void connectionClosed() {
        context.backend().connectionClosed();
    }

    RespDispatcher(CommandContext context) {
        this.context = context;
    }

    RespSession session() {
        return context.session();
    }

    /** Starts the request and returns its reply to come; never fails (errors are replies). */
    CompletableFuture<RespReply> dispatch(List<ByteString> arguments) {
        String name = RespArgs.lower(arguments.get(0));
        RespCommand command = context.table().lookup(name);
        if (command == null) {
            return CompletableFuture.completedFuture(unknownCommand(arguments));
        }
        if (!command.arityAccepts(arguments.size())) {
            return CompletableFuture.completedFuture(wrongArity(command.name()));
        }
        if (command.kind() == RespCommand.Kind.LOCAL) {
            return run(command, arguments);
        }
        List<ByteString> keys = command.keys(arguments);
        if (keys.size() > 1 && context.backend().cluster().isPresent() && !oneSlot(keys)) {
            // As a Redis Cluster node: the client splits the request (keys sharing a {hash tag} share a slot).
            return CompletableFuture.completedFuture(RespReply.error("CROSSSLOT Keys in request don't hash to the same slot"));
        }
        boolean wholeKeySpace = command.kind() == RespCommand.Kind.KEYSPACE;
        CompletableFuture<Void> ready = order.predecessors(keys, wholeKeySpace);
        CompletableFuture<RespReply> reply = ready.isDone() ? run(command, arguments)
                : ready.thenComposeAsync(ignored -> run(command, arguments), BlockingSteps.EXECUTOR);
        order.track(keys, wholeKeySpace, reply);
        return reply;
    }

    private static boolean oneSlot(List<ByteString> keys) {
        int slot = Slots.slotOf(keys.get(0));
        for (int i = 1; i < keys.size(); i++) {
            if (Slots.slotOf(keys.get(i)) != slot) {
                return false;
            }
        }
        return true;
    }

    private CompletableFuture<RespReply> run(RespCommand command, List<ByteString> arguments) {
        CompletableFuture<RespReply> started;
        try {
            started = command.handler().run(context, arguments);
        } catch (RuntimeException e) {
            started = CompletableFuture.failedFuture(e);
        }
        return started.exceptionally(failure -> errorReply(command.name(), failure));
    }

    static RespReply wrongArity(String fullName) {
        return RespReply.error("ERR wrong number of arguments for '" + fullName + "' command");
    }

    /** Redis's text: {@code ERR unknown command 'FOO', with args beginning with: 'a' 'b' }. */
    static RespReply unknownCommand(List<ByteString> arguments) {
        StringBuilder shown = new StringBuilder();
        for (int i = 1; i < arguments.size() && shown.length() < SHOWN_CHARS; i++) {
            String argument = RespArgs.text(arguments.get(i));
            int room = SHOWN_CHARS - shown.length();
            shown.append('\'').append(argument, 0, Math.min(argument.length(), room)).append("' ");
        }
        String name = RespArgs.text(arguments.get(0));
        return RespReply.error("ERR unknown command '" + name.substring(0, Math.min(name.length(), SHOWN_CHARS))
                + "', with args beginning with: " + shown);
    }

    static RespReply errorReply(String commandName, Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RespError error) {
            return error.reply();
        }
        if (cause instanceof KvClientException kv) {
            return RespReply.error("ERR " + kv.getMessage());
        }
        LOG.warn("command {} failed unexpectedly", commandName, cause);
        return RespReply.error("ERR internal error in '" + commandName + "': " + cause);
    }
}
