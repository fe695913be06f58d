package io.loomkv.tools;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.shard.AddedStores;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.bench.ClientTlsOptions;
import io.loomkv.tools.backup.BackupFile;
import io.loomkv.tools.backup.ClusterBackup;
import io.loomkv.net.client.KeyTtl;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberInfo;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;

/**
 * {@code loomkv ctl}: one client operation or admin command against a running cluster. The
 * common options ({@code --cluster}, {@code --json}, {@code -w}, {@code --timeout-ms}) are
 * inherited by every subcommand, so they go before or after it:
 * {@code ./loomkv ctl status --json} and {@code ./loomkv ctl --json status} are the same.
 * Exit codes: 0 done, 1 the operation failed or found nothing (a missing key, a refused cas, an
 * unreachable cluster), 2 bad input (docs/cli.md).
 */
@Command(name = "ctl", mixinStandardHelpOptions = true, subcommands = EndpointCommand.class,
        description = "Client commands: put, get, del, append, cas, scan, status, groups, slot, config get|stores|add-store|forget-store|add-group|remove-group|move|move-replica|remove-store|wait, member list|add|remove, transfer-leader, move-leaders, endpoint health|status, snapshot save.")
public final class CtlCommand implements Callable<Integer> {
    /** What {@code -w} takes: etcdctl's {@code --write-out}, with the two formats ctl prints. */
    enum OutputFormat { table, json }

    @Option(names = "--cluster", paramLabel = "FOLDER|HOST:PORT,...", defaultValue = "conf/local-3node", scope = ScopeType.INHERIT,
            description = "a folder of node configs or a list of client addresses (default: ${DEFAULT-VALUE})")
    String cluster;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "print JSON (one object per line); same as -w json")
    boolean json;

    @Option(names = {"-w", "--write-out"}, paramLabel = "table|json", scope = ScopeType.INHERIT,
            description = "output format: table (default) or json")
    OutputFormat writeOut;

    @Option(names = "--timeout-ms", defaultValue = "10000", scope = ScopeType.INHERIT,
            description = "give up after this long (default: ${DEFAULT-VALUE}); an unreachable cluster fails sooner")
    long timeoutMillis;

    @Mixin
    ClientTlsOptions tls;

    private final PrintStream out = System.out;

    @Override
    public Integer call() {
        System.err.println("usage: ./loomkv ctl put|get|del|append|cas|scan|mget|mput|status|groups|slot|config|member|transfer-leader|move-leaders|endpoint|snapshot ... "
                + "[--cluster X] [--json | -w json|table]");
        return 2;
    }

    /** What a subcommand does with a client of the cluster and where that cluster is. */
    @FunctionalInterface
    private interface ClientAction {
        int run(KvClient client, ClusterTarget target);
    }

    /** Bad input found only once the cluster answered (a --group it does not have): exit code 2. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    private int withClient(ClientAction action) {
        quietLogs();
        ClusterTarget target;
        TlsContext tlsContext;
        try {
            target = ClusterTarget.resolve(cluster);
            tlsContext = tls.given() ? tls.context() : target.localTls();
        } catch (NodeConfigException | IOException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        if (writeOut == OutputFormat.json) {
            json = true;
        } else if (writeOut == OutputFormat.table && json) {
            System.err.println("error: --json and -w table contradict each other");
            return 2;
        }
        Duration deadline = Duration.ofMillis(Math.max(100, timeoutMillis));
        Duration attempt = Duration.ofMillis(Math.min(2000, deadline.toMillis()));
        try (KvClient client = new KvClient(KvClientConfig.of(target.clientAddresses(), target.clusterId())
                .withDeadline(deadline, attempt).withTls(tlsContext))) {
            Optional<String> unreachable = Reachability.unreachable(client, target.clientAddresses(), deadline);
            if (unreachable.isPresent()) {
                if (json) {
                    out.println("{\"ok\":false,\"status\":\"UNREACHABLE\",\"message\":" + Json.quote(unreachable.get()) + "}");
                }
                System.err.println("error: " + unreachable.get());
                return 1;
            }
            return action.run(client, target);
        } catch (UsageError e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        } catch (KvClientException e) {
            if (json) {
                out.println("{\"ok\":false,\"status\":" + Json.quote(e.status().name()) + ",\"message\":"
                        + Json.quote(e.getMessage()) + ",\"outcome_unknown\":" + e.outcomeUnknown() + "}");
            }
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }

    /** The group {@code requested} names (null: the only data group; "controller" or 0: group 0), checked against the layout. */
    private static long resolveGroup(KvClient client, String requested) {
        try {
            return GroupChoice.resolve(requested, client.layout());
        } catch (IllegalArgumentException e) {
            throw new UsageError(e.getMessage());
        }
    }

    static void quietLogs() {
        if (System.getProperty("LOOMKV_LOG_LEVEL") == null && System.getenv("LOOMKV_LOG_LEVEL") == null) {
            System.setProperty("LOOMKV_LOG_LEVEL", "WARN");
        }
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFromUtf8(text);
    }

    @Command(name = "put", description = {"Set KEY to VALUE.",
            "Without VALUE the value is read from standard input (as bytes, up to the cluster's max-value-bytes), or from --file F.",
            "With --ttl the key expires that long after the write (30s, 10m, 2h, 500ms); without it the key has no time to live."})
    int put(@Parameters(paramLabel = "KEY") String key, @Parameters(paramLabel = "VALUE", arity = "0..1") String value,
            @Option(names = "--file", paramLabel = "F", description = "read the value from this file") Path file,
            @Option(names = "--ttl", paramLabel = "DURATION", description = "time to live: 30s, 10m, 2h, 500ms") String ttlText) {
        ByteString bytes;
        if (value != null && file != null) {
            System.err.println("error: put takes VALUE or --file F, not both");
            return 2;
        }
        Duration ttl = null;
        if (ttlText != null) {
            try {
                ttl = timeToLive(ttlText);
            } catch (IllegalArgumentException e) {
                System.err.println("error: --ttl " + e.getMessage());
                return 2;
            }
        }
        if (value != null) {
            bytes = bytes(value);
        } else {
            int limit = ValueInput.maxValueBytes(cluster);
            try (InputStream in = file == null ? System.in : Files.newInputStream(file)) {
                bytes = ValueInput.read(in, limit, file == null ? "standard input" : file.toString());
            } catch (ValueInput.TooLargeException e) {
                System.err.println("error: " + e.getMessage());
                return 2;
            } catch (IOException e) {
                System.err.println("error: cannot read the value: " + e.getMessage());
                return 2;
            }
        }
        Duration finalTtl = ttl;
        return withClient((client, target) -> {
            boolean existed = finalTtl == null ? client.put(bytes(key), bytes) : client.put(bytes(key), bytes, finalTtl);
            out.println(json ? "{\"ok\":true,\"existed\":" + existed + "}" : "OK" + (existed ? " (replaced)" : " (created)"));
            return 0;
        });
    }

    @Command(name = "get", description = "Print KEY's value (exit code 1 when it does not exist).")
    int get(@Parameters(paramLabel = "KEY") String key) {
        return withClient((client, target) -> {
            Optional<ByteString> value = client.get(bytes(key));
            if (json) {
                out.println(value.map(v -> "{\"found\":true,\"value\":" + Json.quote(v.toStringUtf8()) + "}")
                        .orElse("{\"found\":false}"));
            } else {
                out.println(value.map(ByteString::toStringUtf8).orElse("(not found)"));
            }
            return value.isPresent() ? 0 : 1;
        });
    }

    @Command(name = "ttl", description = {"Print KEY's time to live: the time left and the deadline (UTC), 'none' when it has",
            "none; exit code 1 when KEY does not exist."})
    int ttl(@Parameters(paramLabel = "KEY") String key) {
        return withClient((client, target) -> {
            KeyTtl ttl = client.ttl(bytes(key));
            if (json) {
                out.println(!ttl.exists() ? "{\"found\":false}" : "{\"found\":true,\"expires_at_millis\":" + ttl.expiresAtMillis()
                        + ",\"remaining_millis\":" + ttl.remainingMillis() + "}");
            } else if (!ttl.exists()) {
                out.println("(not found)");
            } else if (!ttl.expires()) {
                out.println("none");
            } else {
                out.println(Duration.ofMillis(ttl.remainingMillis()).toString().substring(2).toLowerCase(java.util.Locale.ROOT)
                        + " (expires " + java.time.Instant.ofEpochMilli(ttl.expiresAtMillis()) + ")");
            }
            return ttl.exists() ? 0 : 1;
        });
    }

    @Command(name = "expire", description = {"Give KEY a time to live of DURATION from now (30s, 10m, 2h, 500ms), replacing any it had;",
            "exit code 1 when KEY does not exist."})
    int expire(@Parameters(paramLabel = "KEY") String key, @Parameters(paramLabel = "DURATION") String durationText) {
        Duration ttl;
        try {
            ttl = timeToLive(durationText);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        return withClient((client, target) -> {
            boolean existed = client.expire(bytes(key), ttl);
            out.println(json ? "{\"ok\":" + existed + "}" : existed ? "OK" : "(not found)");
            return existed ? 0 : 1;
        });
    }

    @Command(name = "persist", description = "Remove KEY's time to live (the key stays).")
    int persist(@Parameters(paramLabel = "KEY") String key) {
        return withClient((client, target) -> {
            boolean removed = client.persist(bytes(key));
            out.println(json ? "{\"ok\":true,\"removed\":" + removed + "}" : removed ? "OK" : "(no time to live)");
            return 0;
        });
    }

    /** A time to live as typed: a duration of 1 ms to 100 years. */
    private static Duration timeToLive(String text) {
        Duration ttl = io.loomkv.tools.chaos.DurationText.parse(text);
        if (ttl.toMillis() < 1 || ttl.toMillis() > io.loomkv.core.kv.Deadlines.MAX_TTL_MILLIS) {
            throw new IllegalArgumentException("'" + text + "' is outside 1ms.." + Duration.ofMillis(
                    io.loomkv.core.kv.Deadlines.MAX_TTL_MILLIS).toDays() + " days");
        }
        return ttl;
    }

    @Command(name = "del", description = "Delete KEY.")
    int del(@Parameters(paramLabel = "KEY") String key) {
        return withClient((client, target) -> {
            boolean existed = client.delete(bytes(key));
            out.println(json ? "{\"ok\":true,\"existed\":" + existed + "}" : existed ? "deleted" : "(not found)");
            return 0;
        });
    }

    @Command(name = "append", description = "Append VALUE to KEY's value.")
    int append(@Parameters(paramLabel = "KEY") String key, @Parameters(paramLabel = "VALUE") String value) {
        return withClient((client, target) -> {
            long length = client.append(bytes(key), bytes(value));
            out.println(json ? "{\"ok\":true,\"new_length_bytes\":" + length + "}" : "OK (length " + length + ")");
            return 0;
        });
    }

    @Command(name = "cas", description = "Set KEY to NEW if its value is EXPECTED (use --absent to require that KEY does not exist).")
    int cas(@Option(names = "--absent", description = "expect KEY to be absent; EXPECTED is then omitted") boolean absent,
            @Parameters(paramLabel = "KEY") String key,
            @Parameters(paramLabel = "EXPECTED NEW", arity = "1..2") List<String> values) {
        if (values.size() != (absent ? 1 : 2)) {
            System.err.println("error: cas takes KEY EXPECTED NEW, or --absent KEY NEW");
            return 2;
        }
        Optional<ByteString> expected = absent ? Optional.empty() : Optional.of(bytes(values.get(0)));
        ByteString newValue = bytes(values.get(values.size() - 1));
        return withClient((client, target) -> {
            boolean swapped = client.compareAndSet(bytes(key), expected, newValue);
            out.println(json ? "{\"ok\":true,\"swapped\":" + swapped + "}" : swapped ? "swapped" : "not swapped (value differs)");
            return swapped ? 0 : 1;
        });
    }

    @Command(name = "mget", description = {"Print the values of KEY... (one line each, in order).",
            "Keys of several groups are read group by group: each group's keys at one point in time."})
    int mget(@Parameters(paramLabel = "KEY", arity = "1..*") List<String> keys) {
        return withClient((client, target) -> {
            MultiGetResult result = client.multiGet(keys.stream().map(CtlCommand::bytes).toList());
            int found = 0;
            for (MultiGetEntry entry : result.getEntriesList()) {
                found += entry.getFound() ? 1 : 0;
                if (json) {
                    out.println("{\"key\":" + Json.quote(entry.getKey().toStringUtf8()) + ",\"found\":" + entry.getFound()
                            + (entry.getFound() ? ",\"value\":" + Json.quote(entry.getValue().toStringUtf8()) : "") + "}");
                } else {
                    out.println(entry.getKey().toStringUtf8() + " = "
                            + (entry.getFound() ? entry.getValue().toStringUtf8() : "(not found)"));
                }
            }
            return found == keys.size() ? 0 : 1;
        });
    }

    @Command(name = "mput", description = {"Set KEY1 to VALUE1, KEY2 to VALUE2, ...",
            "Atomic within each group only: keys sharing a {hash tag} are in one group, so such a mput is atomic."})
    int mput(@Parameters(paramLabel = "KEY VALUE", arity = "2..*") List<String> pairs) {
        if (pairs.size() % 2 != 0) {
            System.err.println("error: mput takes KEY VALUE pairs, got an odd number of arguments (" + pairs.size() + ")");
            return 2;
        }
        Map<ByteString, ByteString> entries = new LinkedHashMap<>();
        for (int i = 0; i < pairs.size(); i += 2) {
            if (entries.put(bytes(pairs.get(i)), bytes(pairs.get(i + 1))) != null) {
                System.err.println("error: key '" + pairs.get(i) + "' appears twice in one mput");
                return 2;
            }
        }
        return withClient((client, target) -> {
            client.multiPut(entries);
            out.println(json ? "{\"ok\":true,\"written\":" + entries.size() + "}" : "OK (" + entries.size() + " keys)");
            return 0;
        });
    }

    @Command(name = "scan", description = "List keys starting with PREFIX, in order.")
    int scan(@Parameters(paramLabel = "PREFIX", defaultValue = "") String prefix,
            @Option(names = "--limit", defaultValue = "100", description = "at most this many keys (default: ${DEFAULT-VALUE})") int limit) {
        return withClient((client, target) -> {
            List<KeyValue> all = new ArrayList<>();
            ByteString resume = ByteString.EMPTY;
            boolean more = true;
            while (more && all.size() < limit) {
                ScanResult page = client.scan(bytes(prefix), Math.min(1000, limit - all.size()), resume);
                all.addAll(page.getEntriesList());
                more = page.getMore();
                resume = page.getContinuation();
            }
            for (KeyValue kv : all) {
                out.println(json ? "{\"key\":" + Json.quote(kv.getKey().toStringUtf8()) + ",\"value\":"
                        + Json.quote(kv.getValue().toStringUtf8()) + "}" : kv.getKey().toStringUtf8() + " = " + kv.getValue().toStringUtf8());
            }
            if (!json) {
                out.println("(" + all.size() + " keys" + (more ? ", more follow" : "") + ")");
            }
            return 0;
        });
    }

    @Command(name = "status", description = {"One line per store and group it hosts: store address, store id, group, role, "
            + "term, commit and applied index, leader, quiet.",
            "QUIET is as the store reported it before this command asked: asking a group for its term wakes it for a moment."})
    int status() {
        return withClient((client, target) -> StoreStatusListing.print(client, target.clientAddresses(), json, out) > 0 ? 0 : 1);
    }

    @Command(name = "groups", description = "One line per data group: its slots, replica stores, leader store, term and applied index.")
    int groups() {
        return withClient((client, target) -> {
            Optional<GroupTable> table = GroupTable.gather(client, target.clientAddresses());
            if (table.isEmpty()) {
                System.err.println("error: no store of " + cluster + " answered");
                return 1;
            }
            GroupListing.print(GroupListing.lines(client, table.get()), table.get(), json, out);
            return 0;
        });
    }

    @Command(name = "slot", description = "Print KEY's slot and the group that holds it under the cluster's layout (and that group's leader).")
    int slot(@Parameters(paramLabel = "KEY") String key) {
        return withClient((client, target) -> {
            Optional<GroupTable> table = GroupTable.gather(client, target.clientAddresses());
            if (table.isEmpty()) {
                System.err.println("error: no store of " + cluster + " answered");
                return 1;
            }
            int slot = Slots.slotOf(bytes(key));
            GroupTable.Group group = table.get().group(table.get().layout().groupOf(slot));
            InetSocketAddress leader = group.leaderId() == 0 ? null : table.get().storeAddress(group.leaderId());
            String leaderAddress = leader == null ? "" : MemberAddress.format(leader);
            if (json) {
                out.println("{\"key\":" + Json.quote(key) + ",\"slot\":" + slot + ",\"group\":" + group.id() + ",\"leader\":"
                        + group.leaderId() + ",\"leader_address\":" + Json.quote(leaderAddress) + "}");
            } else {
                out.println(key + ": slot " + slot + ", group " + group.id() + " (slots " + CompactRanges.slots(group.slots()) + "), "
                        + (group.leaderId() == 0 ? "leader unknown" : "leader store " + group.leaderId() + " at " + leaderAddress));
            }
            return 0;
        });
    }

    @Command(name = "member", description = {"member list | member add ID CLIENT_ADDR PEER_ADDR | member remove ID, of one group.",
            "A cluster of several data groups needs --group G; with one group it may be left out.",
            "--group controller (or 0) names group 0, the shard controller: list only (its membership is fixed at creation)."})
    int member(@Parameters(paramLabel = "list|add|remove") String action,
            @Parameters(paramLabel = "ARGS", arity = "0..*") List<String> args,
            @Option(names = "--group", paramLabel = "G", description = GROUP_HELP) String group) {
        List<String> rest = args == null ? List.of() : args;
        return switch (action) {
            case "list" -> withClient((client, target) -> {
                long resolved = resolveGroup(client, group);
                return resolved == GroupIds.CONTROLLER_GROUP_ID ? controllerMemberList(client, target)
                        : memberList(client, target, resolved);
            });
            case "add" -> {
                if (rest.size() != 3) {
                    System.err.println("error: member add ID CLIENT_ADDR PEER_ADDR [--group G]");
                    yield 2;
                }
                yield withClient((client, target) -> admin(client.addMember(dataGroup(client, group, "member add"),
                        parseId(rest.get(0)), rest.get(1), rest.get(2))));
            }
            case "remove" -> {
                if (rest.size() != 1) {
                    System.err.println("error: member remove ID [--group G]");
                    yield 2;
                }
                yield withClient((client, target) -> admin(client.removeMember(dataGroup(client, group, "member remove"),
                        parseId(rest.get(0)))));
            }
            default -> {
                System.err.println("error: member takes list, add or remove, not '" + action + "'");
                yield 2;
            }
        };
    }

    @Command(name = "transfer-leader", description = {"Hand leadership of a group to store ID (--group G on a cluster of several groups;",
            "--group controller for the shard controller, group 0)."})
    int transferLeader(@Parameters(paramLabel = "ID") long id,
            @Option(names = "--group", paramLabel = "G", description = GROUP_HELP) String group) {
        return withClient((client, target) -> {
            long resolved = resolveGroup(client, group);
            return admin(resolved == GroupIds.CONTROLLER_GROUP_ID ? client.transferControllerLeader(id)
                    : client.transferLeader(resolved, id));
        });
    }

    private static final String GROUP_HELP = "the group: a data group id, or 'controller' (also 0) for the shard controller"
            + " (default: the only data group)";

    /**
     * A data group named by {@code --group} for a membership change. The controller's replicas move
     * through the controller itself ({@code config move-replica controller}): each configuration
     * lists where group 0 is, which routes controller commands and store reports, and a membership
     * change made here would leave that list behind.
     */
    private static long dataGroup(KvClient client, String requested, String command) {
        long group = resolveGroup(client, requested);
        if (group == GroupIds.CONTROLLER_GROUP_ID) {
            throw new UsageError(command + " cannot change the shard controller's membership (group 0) directly: move its"
                    + " replicas with 'config move-replica controller FROM_STORE TO_STORE' (or drain a store with config"
                    + " remove-store), so that every configuration lists where it is; member list and transfer-leader take"
                    + " --group controller");
        }
        return group;
    }

    @Command(name = "move-leaders", description = {"Hand every group store ID leads to another replica, and wait until it leads none.",
            "Run before stopping a store on purpose (the Kubernetes preStop hook does)."})
    int moveLeaders(@Option(names = "--from", paramLabel = "ID", required = true, description = "the store to move leadership away from") long from) {
        return withClient((client, target) -> LeaderMove.run(client, target, from, Duration.ofMillis(Math.max(100, timeoutMillis)), out));
    }

    @Command(name = "config", description = {"config get [N]: the shard controller's configuration N (default: the latest):",
            "which group owns which slots and which stores host each group. Configuration 1 is the layout the cluster",
            "was created with; the controller keeps the newest 1,024.",
            "config stores: what each store last reported to the controller (every 2 s): groups hosted and led, keys, data.",
            "config add-store S CLIENT_HOST:PORT PEER_HOST:PORT: a new store joins (start it with --join=true first);",
            "every store learns its addresses, and groups can then be placed on it.",
            "config forget-store S: an added store no group lists leaves the cluster; every store drops its addresses,",
            "and it stops by itself if it still runs (its id may be added again, from an empty data directory).",
            "config add-group G [STORE...] [--replicas N]: a new group G on those stores, or without stores on the N",
            "(default 3) live stores holding the fewest replicas (ties: the lower id); it takes its share of the slots.",
            "config remove-group G...: retire groups; their slots go to the others.",
            "config move SLOT[-LAST] G: move a slot or a range of slots to group G.",
            "config move-replica G FROM_STORE TO_STORE: move group G's replica to another store (learner, then one joint change);",
            "  G may be 'controller' for the shard controller's own replica.",
            "config remove-store S: move every replica off store S, one at a time, to the least loaded other live stores;",
            "then forget S when it is an added store (as forget-store).",
            "config wait: block until every group has reached the latest configuration and moves no slot or replica."})
    int config(@Parameters(paramLabel = "get|stores|add-store|forget-store|add-group|remove-group|move|move-replica|remove-store|wait")
            String action,
            @Parameters(paramLabel = "ARG", arity = "0..*") List<String> args,
            @Option(names = "--wait-seconds", defaultValue = "600",
                    description = "config wait gives up after this long (default: ${DEFAULT-VALUE})") long waitSeconds,
            @Option(names = "--replicas", paramLabel = "N",
                    description = "config add-group without stores: how many replicas (default: 3)") Integer replicas) {
        List<String> rest = args == null ? List.of() : args;
        ControllerCommand change;
        try {
            change = switch (action) {
                case "add-group" -> {
                    ConfigChanges.addedGroup(rest);
                    if (rest.size() > 1 && replicas != null) {
                        throw new UsageError("config add-group takes stores or --replicas, not both");
                    }
                    yield rest.size() == 1 ? null : ConfigChanges.addGroup(rest);
                }
                case "remove-group" -> ConfigChanges.removeGroups(rest);
                case "move" -> ConfigChanges.move(rest);
                case "move-replica" -> ConfigChanges.moveReplica(rest);
                case "add-store" -> ConfigChanges.addStore(rest);
                case "forget-store" -> ConfigChanges.forgetStore(rest);
                default -> null;
            };
        } catch (UsageError e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        if (change != null) {
            return withClient((client, target) -> {
                List<Long> members = members(client, target);
                String unknown = ConfigChanges.unknownStores(change, members);
                if (unknown != null) {
                    throw new UsageError(unknown);
                }
                ControllerReply reply = client.controller(change);
                return change.hasForgetStore() ? ConfigChanges.reportForgotten(change.getForgetStore().getStoreId(), reply, json, out)
                        : ConfigChanges.report(reply, json, out);
            });
        }
        switch (action) {
            case "add-group" -> {
                return withClient((client, target) -> {
                    StorePlacement.View view = StorePlacement.read(client, members(client, target));
                    List<Long> chosen = StorePlacement.forNewGroup(view, replicas == null ? 3 : replicas);
                    if (!json) {
                        out.println("placing group " + rest.get(0) + " on stores " + chosen + " (replicas held by the live stores: "
                                + view.loads() + ")");
                    }
                    return ConfigChanges.report(client.controller(ConfigChanges.join(ConfigChanges.addedGroup(rest), chosen)),
                            json, out);
                });
            }
            case "remove-store" -> {
                if (rest.size() != 1) {
                    System.err.println("error: config remove-store takes one store id");
                    return 2;
                }
                long store;
                try {
                    store = Long.parseLong(rest.get(0));
                } catch (NumberFormatException e) {
                    System.err.println("error: store id '" + rest.get(0) + "' is not a number");
                    return 2;
                }
                return withClient((client, target) -> {
                    List<Long> members = members(client, target);
                    if (!members.contains(store)) {
                        throw new UsageError("store " + store + " is not a member of the cluster (members: " + members + ")");
                    }
                    return ConfigChanges.removeStore(client, target.clientAddresses(), StorePlacement.read(client, members), store,
                            Duration.ofSeconds(Math.max(1, waitSeconds)), json, out);
                });
            }
            case "stores" -> {
                return withClient((client, target) -> {
                    StoreReportListing.print(client.storeReports(), json, out);
                    return 0;
                });
            }
            case "wait" -> {
                return withClient((client, target) -> ConfigChanges.await(client, target.clientAddresses(),
                        Duration.ofSeconds(Math.max(1, waitSeconds)), json, out));
            }
            case "get" -> { }
            default -> {
                System.err.println("error: config takes get [N], stores, add-store, forget-store, add-group, remove-group, move,"
                        + " move-replica, remove-store"
                        + " or wait, not '"
                        + action + "'");
                return 2;
            }
        }
        long number;
        try {
            number = rest.isEmpty() ? -1 : Long.parseLong(rest.get(0));
        } catch (NumberFormatException e) {
            System.err.println("error: configuration number '" + rest.get(0) + "' is not a number");
            return 2;
        }
        if (rest.size() > 1) {
            System.err.println("error: config get takes one configuration number, got " + rest);
            return 2;
        }
        if (number == 0 || number < -1) {
            System.err.println("error: configuration numbers start at 1 (or -1 for the latest), got " + number);
            return 2;
        }
        return withClient((client, target) -> {
            ControllerReply latest = client.config(-1);
            ControllerReply reply = number == -1 || !latest.getError().isEmpty() ? latest : client.config(number);
            if (!reply.getError().isEmpty()) {
                if (json) {
                    out.println("{\"ok\":false,\"message\":" + Json.quote(reply.getError()) + "}");
                }
                System.err.println("error: " + reply.getError());
                return 1;
            }
            ConfigListing.print(reply.getConfig(), latest.getConfig().getVersion(), json, out);
            return 0;
        });
    }

    /**
     * The cluster's member stores, ascending: those the first reachable address lists, with the
     * stores the controller's latest configuration lists as added and without those it lists as
     * forgotten. A store's address book follows the controller only when it next reads it (within
     * a poll), so an add-group right after an add-store would otherwise find the new store unknown.
     */
    private static List<Long> members(KvClient client, ClusterTarget target) {
        TreeSet<Long> members = new TreeSet<>();
        client.layoutOf(target.clientAddresses().get(0)).getStoresList()
                .forEach(store -> members.add(store.getStoreId()));
        ControllerReply latest = client.config(-1);
        if (latest.getError().isEmpty()) {
            AddedStores added = SlotLayout.fromProto(latest.getConfig()).addedStores();
            added.all().forEach(store -> members.add(store.getStoreId()));
            members.removeAll(added.forgotten());
        }
        return List.copyOf(members);
    }

    @Command(name = "snapshot", description = {"snapshot save FILE: an online backup of the whole cluster (group 0, the shard controller's",
            "configuration, and every data group), each group's state taken from its leader at one applied index; checksummed,",
            "written to FILE.part then renamed. Read it with './loomkv snapshot status FILE'; see docs/backup.md."})
    int snapshot(@Parameters(paramLabel = "save") String action, @Parameters(paramLabel = "FILE") Path file) {
        if (!"save".equals(action)) {
            System.err.println("error: ctl snapshot takes save FILE, not '" + action + "' (status and restore are './loomkv snapshot ...')");
            return 2;
        }
        return withClient((client, target) -> {
            String clusterId = target.clusterId().isEmpty() ? "unknown" : target.clusterId();
            PrintStream progress = json ? new PrintStream(OutputStream.nullOutputStream()) : out;
            try {
                BackupFile saved = ClusterBackup.save(client, clusterId, target.clientAddresses(), file, progress);
                if (json) {
                    out.println("{\"ok\":true,\"file\":" + Json.quote(file.toString()) + ",\"groups\":" + saved.sections().size()
                            + ",\"bytes\":" + saved.lengthBytes() + "}");
                } else {
                    out.println("Snapshot saved at " + file + " (" + saved.sections().size() + " groups, " + saved.lengthBytes() + " bytes)");
                }
                return 0;
            } catch (IOException | RuntimeException e) {
                if (json) {
                    out.println("{\"ok\":false,\"message\":" + Json.quote(String.valueOf(e.getMessage())) + "}");
                }
                System.err.println("error: snapshot save failed: " + e.getMessage());
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                System.err.println("error: interrupted");
                return 1;
            }
        });
    }

    private static long parseId(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new UsageError("node id '" + text + "' is not a number");
        }
    }

    /** The group's members as its leader lists them. */
    private int memberList(KvClient client, ClusterTarget target, long group) {
        Optional<GroupTable> table = GroupTable.gather(client, target.clientAddresses());
        long leaderId = table.map(t -> t.group(group).leaderId()).orElse(0L);
        InetSocketAddress leader = leaderId == 0 ? null : table.get().storeAddress(leaderId);
        if (leader == null) {
            System.err.println("error: no store of " + cluster + " knows a leader of group " + group);
            return 1;
        }
        printMembers(client.status(leader, group), group);
        return 0;
    }

    /**
     * The shard controller's members as its leader lists them: the first store of the cluster
     * that hosts the controller names the leader, which is then asked.
     */
    private int controllerMemberList(KvClient client, ClusterTarget target) {
        String problem = "no store answered";
        for (InetSocketAddress store : target.clientAddresses()) {
            try {
                NodeStatusReply any = client.controllerStatus(store);
                Optional<MemberInfo> leader = any.getMembersList().stream().filter(m -> m.getId() == any.getLeaderId()).findFirst();
                if (leader.isEmpty() || leader.get().getClientAddress().isEmpty()) {
                    problem = "store " + any.getNodeId() + " knows no leader of the shard controller";
                    continue;
                }
                printMembers(client.controllerStatus(MemberAddress.parseHostPort(leader.get().getClientAddress())),
                        GroupIds.CONTROLLER_GROUP_ID);
                return 0;
            } catch (RuntimeException e) {
                problem = store + ": " + e.getMessage();
            }
        }
        System.err.println("error: no store of " + cluster + " named a leader of the shard controller (group 0); last: " + problem);
        return 1;
    }

    private void printMembers(NodeStatusReply status, long group) {
        for (MemberInfo m : status.getMembersList()) {
            if (json) {
                out.println("{\"id\":" + m.getId() + ",\"group\":" + group + ",\"role\":" + Json.quote(m.getLearner() ? "learner" : "voter")
                        + ",\"client_address\":" + Json.quote(m.getClientAddress()) + ",\"peer_address\":"
                        + Json.quote(m.getPeerAddress()) + ",\"leader\":" + (m.getId() == status.getLeaderId()) + "}");
            } else {
                out.printf("%-4d %-8s client %-22s peer %-22s%s%n", m.getId(), m.getLearner() ? "learner" : "voter",
                        m.getClientAddress(), m.getPeerAddress(), m.getId() == status.getLeaderId() ? " (leader)" : "");
            }
        }
    }

    private int admin(AdminReply reply) {
        if (json) {
            out.println("{\"ok\":" + reply.getOk() + ",\"message\":" + Json.quote(reply.getMessage()) + "}");
        } else {
            out.println((reply.getOk() ? "OK: " : "refused: ") + reply.getMessage());
        }
        return reply.getOk() ? 0 : 1;
    }
}
