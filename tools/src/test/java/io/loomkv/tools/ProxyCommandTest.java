package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code loomkv proxy} refuses a bad listen address or cluster with exit code 2 and a message saying which. */
class ProxyCommandTest {

    private static String refused(String... args) {
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "proxy";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = LoomKv.commandLine().execute(all);
            assertEquals(2, code, buffer.toString(StandardCharsets.UTF_8));
            return buffer.toString(StandardCharsets.UTF_8);
        } finally {
            System.setErr(original);
        }
    }

    @Test
    void badListenAddressOrClusterIsRefused() {
        assertTrue(refused("--resp-listen", "localhost", "--cluster", "127.0.0.1:7101").contains("localhost"));
        assertTrue(refused("--resp-listen", "127.0.0.1:6379", "--cluster", "no-such-folder-or-address")
                .contains("no-such-folder-or-address"));
        assertTrue(refused("--cluster", "127.0.0.1:7101").contains("--resp-listen"));
    }
}
