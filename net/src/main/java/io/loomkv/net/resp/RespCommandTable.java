package io.loomkv.net.resp;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The commands the gateway answers, by lower-case name. Immutable once built. */
final class RespCommandTable {
    private final Map<String, RespCommand> byName;

    private RespCommandTable(Collection<RespCommand> commands) {
        Map<String, RespCommand> map = new TreeMap<>();
        for (RespCommand command : commands) {
            if (map.put(command.name(), command) != null) {
                throw new IllegalArgumentException("command " + command.name() + " defined twice");
            }
        }
        this.byName = Collections.unmodifiableMap(map);
    }

    /** Every command of this package: connection and server, strings, counters, key space. */
    static RespCommandTable standard() {
        return new RespCommandTable(Stream.of(ServerCommands.all(), ClusterCommands.all(), StringCommands.all(), CounterCommands.all(), ExpiryCommands.all(),
                KeyspaceCommands.all()).flatMap(List::stream).toList());
    }

    /** The command named {@code lowerCaseName}, or null. */
    RespCommand lookup(String lowerCaseName) {
        return byName.get(lowerCaseName);
    }

    /** All commands in name order. */
    Collection<RespCommand> all() {
        return byName.values();
    }

    int size() {
        return byName.size();
    }
}
