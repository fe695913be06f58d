package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code loomkv proxy} refuses a bad listen address or cluster with exit code 2 and a message saying which. */
class ProxyCommandTest {

    private static String refused(String... args) {
        return Refusals.refused("proxy", args);
    }

    @Test
    void badListenAddressOrClusterIsRefused() {
        assertTrue(refused("--resp-listen", "localhost", "--cluster", "127.0.0.1:7101").contains("localhost"));
        assertTrue(refused("--resp-listen", "127.0.0.1:6379", "--cluster", "no-such-folder-or-address")
                .contains("no-such-folder-or-address"));
        assertTrue(refused("--cluster", "127.0.0.1:7101").contains("--resp-listen"));
    }

    @Test
    void respTlsFlagsGoTogether() {
        assertTrue(refused("--resp-listen", "127.0.0.1:6379", "--cluster", "127.0.0.1:7101", "--resp-cert", "proxy.pem")
                .contains("--resp-key"));
        assertTrue(refused("--resp-listen", "127.0.0.1:6379", "--cluster", "127.0.0.1:7101", "--resp-trusted-ca", "ca.pem")
                .contains("--resp-cert"));
    }
}
