package io.loomkv.net.resp;

import java.util.function.IntSupplier;

/**
 * What a command may use: its connection's session, the backend, the server's limits and shared
 * state (scan cursors, the command table for {@code COMMAND}, figures for {@code INFO}).
 */
record CommandContext(RespSession session, RespBackend backend, RespServerConfig config, ScanCursors cursors,
        RespCommandTable table, ServerFacts server) {

    /** Server-wide figures INFO reports. */
    record ServerFacts(long startedAtMillis, int port, IntSupplier connectedClients) {}
}
