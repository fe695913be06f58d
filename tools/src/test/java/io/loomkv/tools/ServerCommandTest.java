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

/** {@code loomkv server} refuses bad configs with a message naming the key and the file, and has one flag per key. */
class ServerCommandTest {
    @TempDir
    Path dir;

    private static String runServer(String... args) {
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 1];
            all[0] = "server";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = LoomKv.commandLine().execute(all);
            assertEquals(2, code, buffer.toString(StandardCharsets.UTF_8));
            return buffer.toString(StandardCharsets.UTF_8);
        } finally {
            System.setErr(original);
        }
    }

    @Test
    void badConfigNamesKeyAndFile() throws Exception {
        Path file = dir.resolve("node1.properties");
        Files.writeString(file, "node-id=1\nclient-address=localhost\npeer-address=127.0.0.1:1\ndata-dir=x\nmembers=1=127.0.0.1:1/127.0.0.1:2\n");
        String error = runServer("--config", file.toString());
        assertTrue(error.contains(file.toString()) && error.contains("'client-address'"), error);
    }

    @Test
    void everyKeyIsAFlag() throws Exception {
        String error = runServer("--node-id=1", "--client-address=127.0.0.1:1", "--peer-address=127.0.0.1:2",
                "--data-dir=" + dir, "--members=1=127.0.0.1:1/127.0.0.1:2", "--election-timeout-ticks=zero");
        assertTrue(error.contains("command line") && error.contains("'election-timeout-ticks'"), error);
    }
}
