package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code loomkv proxy} refuses a bad listen address, cluster or limit with exit code 2 and a message saying which. */
class ProxyCommandTest {

    private static String refused(String... args) {
        return Refusals.refused("proxy", args);
    }

    @Test
    void badListenAddressOrClusterIsRefused() {
        assertTrue(refused("--resp-listen", "localhost", "--cluster", "127.0.0.1:7101").contains("localhost"));
        assertTrue(refused("--listen", "nowhere", "--cluster", "127.0.0.1:7101").contains("nowhere"));
        assertTrue(refused("--listen", "127.0.0.1:7700", "--cluster", "no-such-folder-or-address")
                .contains("no-such-folder-or-address"));
    }

    @Test
    void oneOfTheListenAddressesIsNeeded() {
        String message = refused("--cluster", "127.0.0.1:7101");
        assertTrue(message.contains("--listen") && message.contains("--resp-listen"), message);
    }

    @Test
    void aLimitOutOfRangeIsRefused() {
        String message = refused("--listen", "127.0.0.1:7700", "--cluster", "127.0.0.1:7101", "--max-in-flight", "0");
        assertTrue(message.contains("maxInFlightTotal=0"), message);
    }

    @Test
    void respTlsFlagsGoTogether() {
        assertTrue(refused("--resp-listen", "127.0.0.1:6379", "--cluster", "127.0.0.1:7101", "--resp-cert", "proxy.pem")
                .contains("--resp-key"));
        assertTrue(refused("--resp-listen", "127.0.0.1:6379", "--cluster", "127.0.0.1:7101", "--resp-trusted-ca", "ca.pem")
                .contains("--resp-cert"));
    }

    @Test
    void listenTlsFlagsGoTogether() {
        assertTrue(refused("--listen", "127.0.0.1:7700", "--cluster", "127.0.0.1:7101", "--listen-key", "proxy-key.pem")
                .contains("--listen-cert and --listen-key go together"));
        assertTrue(refused("--listen", "127.0.0.1:7700", "--cluster", "127.0.0.1:7101", "--listen-trusted-ca", "ca.pem")
                .contains("--listen-trusted-ca needs --listen-cert"));
        String missing = refused("--listen", "127.0.0.1:7700", "--cluster", "127.0.0.1:7101",
                "--listen-cert", "no-such-cert.pem", "--listen-key", "no-such-key.pem");
        assertTrue(missing.contains("no-such-cert.pem"), missing);
    }
}
