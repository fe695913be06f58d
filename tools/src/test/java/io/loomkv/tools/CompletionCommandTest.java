package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loomkv completion}: a bash script bash accepts, completing the subcommands and their options. */
class CompletionCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsABashScriptForTheWholeCommandTree() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = LoomKv.commandLine().execute("completion");
        } finally {
            System.setOut(original);
        }
        String script = buffer.toString(StandardCharsets.UTF_8);
        assertEquals(0, code);
        assertTrue(script.contains("complete -F _complete_loomkv") || script.contains("complete -o default -F _complete_loomkv"),
                "no 'complete' line for loomkv");
        for (String word : new String[] {"k8s-config", "move-leaders", "transfer-leader", "--write-out", "--replicas"}) {
            assertTrue(script.contains(word), "the script does not complete " + word);
        }
        Path file = dir.resolve("loomkv.bash");
        Files.writeString(file, script);
        Process bash = new ProcessBuilder("bash", "-n", file.toString()).redirectErrorStream(true).start();
        assertTrue(bash.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, bash.exitValue(), new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
