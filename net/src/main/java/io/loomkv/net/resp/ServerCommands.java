package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Connection and server commands: PING, ECHO, QUIT, SELECT, HELLO, CLIENT, COMMAND, INFO, CONFIG,
 * TIME (the CLUSTER commands are in {@link ClusterCommands}). All are answered from the connection's session and local facts, at once.
 */
final class ServerCommands {
    /** The Redis version the gateway presents: the release whose commands and reply shapes it follows. */
    static final String REDIS_VERSION = "7.2.0";
    static final String LOOMKV_VERSION = "0.1.0-SNAPSHOT";
    private static final Set<String> ALL_SECTIONS = Set.of("all", "default", "everything");

    private ServerCommands() {}

    static List<RespCommand> all() {
        return List.of(
                RespCommand.local("ping", -1, "connection", "1.0.0", "Returns the server's liveliness response.", ServerCommands::ping),
                RespCommand.local("echo", 2, "connection", "1.0.0", "Returns the given string.", (c, a) -> done(new RespReply.Bulk(a.get(1)))),
                RespCommand.local("quit", -1, "connection", "1.0.0", "Closes the connection.", ServerCommands::quit),
                RespCommand.local("select", 2, "connection", "1.0.0", "Changes the selected database (only 0 exists).", ServerCommands::select),
                RespCommand.local("hello", -1, "connection", "6.0.0", "Handshakes with the server (protocol 2 or 3).", ServerCommands::hello),
                RespCommand.local("client", -2, "connection", "2.4.0", "Connection commands: SETNAME, GETNAME, ID, SETINFO, INFO.", ServerCommands::client),
                RespCommand.local("command", -1, "server", "2.8.13", "Returns details about the commands.", CommandDocs::command),
                RespCommand.local("info", -1, "server", "1.0.0", "Returns information and statistics about the server.", ServerCommands::info),
                RespCommand.local("config", -2, "server", "2.0.0", "CONFIG GET answers an empty list: nothing is configurable here.", ServerCommands::config),
                RespCommand.local("time", 1, "server", "2.6.0", "Returns the server time.", ServerCommands::time)
        );
    }

    static CompletableFuture<RespReply> done(RespReply reply) {
        return CompletableFuture.completedFuture(reply);
    }

    private static CompletableFuture<RespReply> ping(CommandContext context, List<ByteString> arguments) {
        return switch (arguments.size()) {
            case 1 -> done(new RespReply.SimpleString("PONG"));
            case 2 -> done(new RespReply.Bulk(arguments.get(1)));
            default -> done(RespDispatcher.wrongArity("ping"));
        };
    }

    private static CompletableFuture<RespReply> quit(CommandContext context, List<ByteString> arguments) {
        context.session().requestClose();
        return done(RespReply.OK);
    }

    private static CompletableFuture<RespReply> select(CommandContext context, List<ByteString> arguments) {
        if (RespArgs.integer(arguments.get(1)) != 0) {
            throw RespError.err("DB index is out of range");
        }
        return done(RespReply.OK);
    }

    private static CompletableFuture<RespReply> hello(CommandContext context, List<ByteString> arguments) {
        RespSession session = context.session();
        int protocol = session.protocol();
        int i = 1;
        if (arguments.size() > 1) {
            long requested;
            try {
                requested = RespArgs.integer(arguments.get(1));
            } catch (RespError e) {
                throw RespError.err("Protocol version is not an integer or out of range");
            }
            if (requested < 2 || requested > 3) {
                throw new RespError("NOPROTO unsupported protocol version");
            }
            protocol = (int) requested;
            i = 2;
        }
        String name = null;
        for (; i < arguments.size(); i++) {
            int remaining = arguments.size() - i - 1;
            if (RespArgs.is(arguments.get(i), "auth") && remaining >= 2) {
                i += 2; // No users or passwords here: every client is let in, as Redis's default user without a password.
            } else if (RespArgs.is(arguments.get(i), "setname") && remaining >= 1) {
                name = validName(arguments.get(++i), "Client names");
            } else {
                throw RespError.err("Syntax error in HELLO option '" + RespArgs.text(arguments.get(i)) + "'");
            }
        }
        session.protocol(protocol);
        if (name != null) {
            session.name(name);
        }
        return done(new RespReply.Map(List.of(
                RespReply.bulk("server"), RespReply.bulk("redis"),
                RespReply.bulk("version"), RespReply.bulk(REDIS_VERSION),
                RespReply.bulk("proto"), RespReply.integer(protocol),
                RespReply.bulk("id"), RespReply.integer(session.id()),
                RespReply.bulk("mode"), RespReply.bulk(context.backend().cluster().isPresent() ? "cluster" : "standalone"),
                RespReply.bulk("role"), RespReply.bulk("master"),
                RespReply.bulk("modules"), RespReply.EMPTY_ARRAY)));
    }

    private static CompletableFuture<RespReply> client(CommandContext context, List<ByteString> arguments) {
        RespSession session = context.session();
        String sub = RespArgs.lower(arguments.get(1));
        int count = arguments.size();
        return switch (sub) {
            case "setname" -> {
                requireArity(count == 3, "client|setname");
                session.name(validName(arguments.get(2), "Client names"));
                yield done(RespReply.OK);
            }
            case "getname" -> {
                requireArity(count == 2, "client|getname");
                yield done(session.name().isEmpty() ? RespReply.NULL_BULK : RespReply.bulk(session.name()));
            }
            case "id" -> {
                requireArity(count == 2, "client|id");
                yield done(RespReply.integer(session.id()));
            }
            case "info" -> {
                requireArity(count == 2, "client|info");
                yield done(RespReply.bulk(session.describe(System.currentTimeMillis()) + "\n"));
            }
            case "setinfo" -> {
                requireArity(count == 4, "client|setinfo");
                yield done(setInfo(session, arguments.get(2), arguments.get(3)));
            }
            default -> throw unknownSubcommand(arguments.get(1), "CLIENT");
        };
    }

    private static RespReply setInfo(RespSession session, ByteString attribute, ByteString value) {
        if (RespArgs.is(attribute, "lib-name")) {
            session.library(validName(value, "lib-name"), null);
        } else if (RespArgs.is(attribute, "lib-ver")) {
            session.library(null, validName(value, "lib-ver"));
        } else {
            throw RespError.err("Unrecognized option '" + RespArgs.text(attribute) + "'");
        }
        return RespReply.OK;
    }

    /** Redis allows only printable ASCII without spaces in names (they appear in space-separated CLIENT INFO lines). */
    private static String validName(ByteString name, String what) {
        for (int i = 0; i < name.size(); i++) {
            byte b = name.byteAt(i);
            if (b < '!' || b > '~') {
                throw RespError.err(what + " cannot contain spaces, newlines or special characters.");
            }
        }
        return name.toStringUtf8();
    }

    static void requireArity(boolean accepted, String fullName) {
        if (!accepted) {
            throw new RespError(((RespReply.Error) RespDispatcher.wrongArity(fullName)).text());
        }
    }

    static RespError unknownSubcommand(ByteString sub, String command) {
        String text = RespArgs.text(sub);
        return RespError.err("unknown subcommand '" + text.substring(0, Math.min(text.length(), 128)) + "'. Try "
                + command + " HELP.");
    }

    private static CompletableFuture<RespReply> info(CommandContext context, List<ByteString> arguments) {
        List<String> wanted = arguments.stream().skip(1).map(RespArgs::lower).toList();
        boolean everything = wanted.isEmpty() || wanted.stream().anyMatch(ALL_SECTIONS::contains);
        StringBuilder text = new StringBuilder();
        for (Map.Entry<String, List<String>> section : sections(context).entrySet()) {
            if (everything || wanted.contains(section.getKey().toLowerCase(Locale.ROOT))) {
                if (!text.isEmpty()) {
                    text.append("\r\n");
                }
                text.append("# ").append(section.getKey()).append("\r\n");
                section.getValue().forEach(line -> text.append(line).append("\r\n"));
            }
        }
        return done(RespReply.bulk(text.toString()));
    }

    /** INFO's sections in Redis's order; the keyspace is not counted (that would walk every key). */
    private static Map<String, List<String>> sections(CommandContext context) {
        long uptimeSeconds = (System.currentTimeMillis() - context.server().startedAtMillis()) / 1000;
        boolean clustered = context.backend().cluster().isPresent();
        List<String> cluster = new ArrayList<>(List.of("cluster_enabled:" + (clustered ? 1 : 0)));
        context.backend().clusterInfo().forEach((k, v) -> cluster.add("loomkv_" + k + ":" + v));
        Map<String, List<String>> sections = new LinkedHashMap<>();
        sections.put("Server", List.of("redis_version:" + REDIS_VERSION, "redis_mode:" + (clustered ? "cluster" : "standalone"),
                "loomkv_version:" + LOOMKV_VERSION, "os:" + System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                "arch_bits:64", "process_id:" + ProcessHandle.current().pid(), "tcp_port:" + context.server().port(),
                "uptime_in_seconds:" + uptimeSeconds, "uptime_in_days:" + uptimeSeconds / 86_400));
        sections.put("Clients", List.of("connected_clients:" + context.server().connectedClients().getAsInt(),
                "maxclients:" + context.config().maxConnections()));
        // Replication is Raft's: each write is committed by a majority of its group before the reply.
        sections.put("Replication", List.of("role:master", "connected_slaves:0"));
        sections.put("Keyspace", List.of());
        sections.put("Cluster", cluster);
        return sections;
    }

    private static CompletableFuture<RespReply> config(CommandContext context, List<ByteString> arguments) {
        if (!RespArgs.is(arguments.get(1), "get")) {
            throw unknownSubcommand(arguments.get(1), "CONFIG");
        }
        requireArity(arguments.size() >= 3, "config|get");
        return done(new RespReply.Map(List.of()));
    }

    private static CompletableFuture<RespReply> time(CommandContext context, List<ByteString> arguments) {
        Instant now = Instant.now();
        return done(new RespReply.Array(List.of(RespReply.bulk(Long.toString(now.getEpochSecond())),
                RespReply.bulk(Long.toString(now.getNano() / 1000)))));
    }
}
