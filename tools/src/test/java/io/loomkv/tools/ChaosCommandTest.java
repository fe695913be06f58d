package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loomkv chaos} refuses bad options, and a run directory it did not make, before starting anything. */
class ChaosCommandTest {
    @TempDir
    Path dir;

    private static String[] run(String... args) {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "chaos";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = LoomKv.commandLine().execute(all);
            return new String[] {Integer.toString(code), err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(originalErr);
        }
    }

    @Test
    void badOptionsExitWithTwoAndSayWhy() {
        String[] nodes = run("--nodes", "4", "--run-dir", dir.resolve("a").toString());
        assertEquals("2", nodes[0]);
        assertTrue(nodes[1].contains("nodes must be 3 or 5, got 4"), nodes[1]);
        String[] duration = run("--duration", "soon", "--run-dir", dir.resolve("b").toString());
        assertEquals("2", duration[0]);
        assertTrue(duration[1].contains("'soon' is not a duration"), duration[1]);
        String[] keys = run("--keys", "1", "--run-dir", dir.resolve("c").toString());
        assertEquals("2", keys[0]);
        assertTrue(keys[1].contains("keys must be in 2..1000"), keys[1]);
        String groups = run("--groups", "0", "--run-dir", dir.resolve("d").toString())[1];
        assertTrue(groups.contains("groups must be in 1..256, got 0"), groups);
        assertTrue(!Files.exists(dir.resolve("d")), "nothing was started");
    }

    @Test
    void aRunDirectoryNotMadeByChaosIsNotCleared() throws Exception {
        Path precious = Files.writeString(dir.resolve("precious.txt"), "keep me");
        String[] result = run("--duration", "10s", "--run-dir", dir.toString());
        assertEquals("2", result[0]);
        assertTrue(result[1].contains("was not made by ./loomkv chaos"), result[1]);
        assertEquals("keep me", Files.readString(precious));
    }
}
