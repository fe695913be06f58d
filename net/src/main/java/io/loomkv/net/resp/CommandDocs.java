package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code COMMAND}, {@code COMMAND COUNT|LIST|INFO|DOCS}: the command table described in Redis 7's
 * reply shapes, which redis-cli reads at start for its hints and cluster clients read for key
 * positions.
 */
final class CommandDocs {
    private CommandDocs() {}

    static CompletableFuture<RespReply> command(CommandContext context, List<ByteString> arguments) {
        RespCommandTable table = context.table();
        if (arguments.size() == 1) {
            return ServerCommands.done(new RespReply.Array(table.all().stream().map(CommandDocs::info).toList()));
        }
        String sub = RespArgs.lower(arguments.get(1));
        List<ByteString> names = arguments.subList(2, arguments.size());
        return ServerCommands.done(switch (sub) {
            case "count" -> {
                ServerCommands.requireArity(arguments.size() == 2, "command|count");
                yield RespReply.integer(table.size());
            }
            case "list" -> new RespReply.Array(table.all().stream().map(c -> RespReply.bulk(c.name())).toList());
            case "info" -> new RespReply.Array((names.isEmpty() ? List.copyOf(table.all()) : selected(table, names)).stream()
                    .map(c -> c == null ? RespReply.NULL_ARRAY : info(c)).toList());
            case "docs" -> docs(names.isEmpty() ? table.all() : selected(table, names).stream().filter(c -> c != null).toList());
            default -> throw ServerCommands.unknownSubcommand(arguments.get(1), "COMMAND");
        });
    }

    private static List<RespCommand> selected(RespCommandTable table, List<ByteString> names) {
        List<RespCommand> commands = new ArrayList<>();
        for (ByteString name : names) {
            commands.add(table.lookup(RespArgs.lower(name)));
        }
        return commands;
    }

    /** [name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands]. */
    static RespReply info(RespCommand command) {
        List<RespReply> flags = switch (command.kind()) {
            case LOCAL -> List.of(status("fast"), status("loading"), status("stale"));
            case READ -> List.of(status("readonly"), status("fast"));
            case WRITE -> List.of(status("write"), status("denyoom"));
            case KEYSPACE -> List.of(status("readonly"));
        };
        return new RespReply.Array(List.of(RespReply.bulk(command.name()), RespReply.integer(command.arity()),
                new RespReply.Array(flags), RespReply.integer(command.firstKey()), RespReply.integer(command.lastKey()),
                RespReply.integer(command.keyStep()), new RespReply.Array(List.of(status("@" + command.group()))),
                RespReply.EMPTY_ARRAY, RespReply.EMPTY_ARRAY, RespReply.EMPTY_ARRAY));
    }

    /** A map of command name to its doc map (summary, since, group, complexity). */
    private static RespReply docs(Collection<RespCommand> commands) {
        List<RespReply> entries = new ArrayList<>();
        for (RespCommand command : commands) {
            entries.add(RespReply.bulk(command.name()));
            entries.add(new RespReply.Map(List.of(
                    RespReply.bulk("summary"), RespReply.bulk(command.summary()),
                    RespReply.bulk("since"), RespReply.bulk(command.since()),
                    RespReply.bulk("group"), RespReply.bulk(command.group()),
                    RespReply.bulk("complexity"), RespReply.bulk(command.firstKey() == 0 ? "O(1)" : "O(N) in the keys given"))));
        }
        return new RespReply.Map(entries);
    }

    private static RespReply status(String text) {
        return new RespReply.SimpleString(text);
    }
}
