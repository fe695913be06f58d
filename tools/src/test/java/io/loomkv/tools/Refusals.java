package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a loomkv command line in this JVM that must be refused as bad input (exit code 2), and returns what it printed on stderr. */
final class Refusals {
    private Refusals() {}

    /** {@code loomkv COMMAND ARGS...}. */
    static String refused(String command, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = command;
        System.arraycopy(args, 0, all, 1, args.length);
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            int code = LoomKv.commandLine().execute(all);
            assertEquals(2, code, buffer.toString(StandardCharsets.UTF_8));
            return buffer.toString(StandardCharsets.UTF_8);
        } finally {
            System.setErr(original);
        }
    }
}
