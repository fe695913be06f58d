package io.loomkv.bench.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A short real run of {@code bench wal}, with the records spread over several groups, and its option checks. */
class WalBenchCommandTest {
    @TempDir
    Path dir;

    private String run(int expectedExit, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int exit;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine command = new CommandLine(new WalBenchCommand());
            command.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
            exit = command.execute(args);
        } finally {
            System.setOut(stdout);
        }
        assertEquals(expectedExit, exit, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void recordsSpreadOverGroupsAreAllAppendedWithoutErrors() throws Exception {
        String report = run(0, "--groups", "4", "--appenders", "8", "--duration", "300ms", "--warmup", "0ms", "--raw-fsync-samples", "0",
                "--segment-size", "1048576", "--fsync", "false", "--writer", "platform", "--dir", dir.toString());
        assertTrue(report.contains("8 virtual appenders (direct submit) over 4 groups"), report);
        Matcher operations = Pattern.compile("operations\\s+(\\d+) \\(errors (\\d+)\\)").matcher(report);
        assertTrue(operations.find(), report);
        assertTrue(Long.parseLong(operations.group(1)) > 0, report);
        assertEquals("0", operations.group(2), report);
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(0, left.count(), "the temporary WAL directory is removed");
        }
    }

    @Test
    void moreGroupsThanAppendersAreRefused() {
        String report = run(2, "--groups", "9", "--appenders", "8", "--dir", dir.toString());
        assertTrue(report.contains("--groups must be in 1..--appenders (8), got 9"), report);
        assertTrue(run(2, "--groups", "0", "--dir", dir.toString()).contains("--groups must be"));
    }
}
