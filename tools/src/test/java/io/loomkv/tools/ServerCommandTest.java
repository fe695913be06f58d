package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loomkv server} refuses bad configs with a message naming the key and the file, and has one flag per key. */
class ServerCommandTest {
    @TempDir
    Path dir;

    private static String runServer(String... args) {
        return Refusals.refused("server", args);
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
