package io.loomkv.net.rpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback addresses below the kernel's ephemeral range, each handed out once per JVM, for
 * servers a test or a chaos run starts. Why: a killed server is restarted on the same ports seconds
 * later, and a port from the ephemeral range may meanwhile have been taken by any outgoing
 * connection on this (shared) machine; below the range only an explicit bind can take it. Tests that start stores in one JVM
 * use it for the same reason: a store that starts first dials its peers from ephemeral ports, and
 * one of those may be the port a peer that starts later was given by {@code new ServerSocket(0)}
 * (MoveLeadersTest failed so with "Address already in use").
 */
public final class LoopbackPorts {
    private static final int LOWEST_PORT = 12_000;
    private static final int ATTEMPTS = 200;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private LoopbackPorts() {
    }

    public static InetSocketAddress next() {
        int highest = ephemeralRangeStart() - 1;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST_PORT, Math.max(LOWEST_PORT + 1, highest));
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                if (HANDED_OUT.add(port)) {
                    return new InetSocketAddress("127.0.0.1", port);
                }
            } catch (IOException taken) {
                // Someone listens there; try another.
            }
        }
        throw new UncheckedIOException(new IOException("no free loopback port in " + LOWEST_PORT + ".." + highest
                + " after " + ATTEMPTS + " tries"));
    }

    /**
     * The first port the kernel hands out for outgoing connections (Linux), or 32768 when that
     * cannot be read or leaves too little room below it. (Read by lines: on JDK 25
     * {@code Files.readString} of this procfs file returned only its first byte.)
     */
    private static int ephemeralRangeStart() {
        try {
            String range = String.join(" ", Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))).trim();
            int start = Integer.parseInt(range.split("\\s+")[0]);
            return start > LOWEST_PORT + 1_000 ? start : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
