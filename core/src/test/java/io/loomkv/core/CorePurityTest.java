package io.loomkv.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code core/src/main} pure: no files, sockets, threads, clocks or unseeded randomness.
 * That purity is what lets the seeded simulator replay any failure exactly, so it is checked
 * on every build instead of trusted to review.
 *
 * <p>The core may read and write caller-supplied {@code InputStream}/{@code OutputStream}s (the
 * KV snapshot codec streams records into whatever the runtime hands it), but it never opens a
 * file or a socket itself.
 */
final class CorePurityTest {
    private static final Path MAIN_SOURCES = Path.of("src", "main", "java");

    /** Each pattern names a way to reach the outside world or a source of nondeterminism. */
    private static final List<Pattern> FORBIDDEN = List.of(
            Pattern.compile("\\bjava\\.io\\.(File|RandomAccessFile|FileInputStream|FileOutputStream|FileReader|FileWriter)\\b"),
            Pattern.compile("\\bjava\\.nio\\.(file|channels)\\b"),
            Pattern.compile("\\bjava\\.net\\b"),
            Pattern.compile("\\bjava\\.util\\.concurrent\\.(Executor|Executors|ExecutorService|ThreadPoolExecutor|ForkJoinPool|ScheduledExecutorService|CompletableFuture|locks)\\b"),
            Pattern.compile("\\bnew\\s+Thread\\b|\\bThread\\.(sleep|ofVirtual|ofPlatform|startVirtualThread|currentThread)\\b"),
            Pattern.compile("\\bsynchronized\\b"),
            Pattern.compile("\\bSystem\\.(nanoTime|currentTimeMillis|getenv|getProperty|exit)\\b"),
            Pattern.compile("\\b(Instant|LocalDateTime|LocalDate|ZonedDateTime|OffsetDateTime)\\.now\\b|\\bjava\\.time\\.Clock\\b"),
            Pattern.compile("\\bnew\\s+Random\\s*\\(\\s*\\)|\\bThreadLocalRandom\\b|\\bSecureRandom\\b|\\bMath\\.random\\b|\\bUUID\\.randomUUID\\b"),
            Pattern.compile("\\bRuntime\\.getRuntime\\b|\\bProcessBuilder\\b"));

    @Test
    void coreMainUsesNoIoThreadsClocksOrUnseededRandomness() throws IOException {
        assertTrue(Files.isDirectory(MAIN_SOURCES), "run from the core module: " + MAIN_SOURCES.toAbsolutePath());
        List<String> violations = new ArrayList<>();
        int filesChecked = 0;
        try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
            for (Path file : files.filter(path -> path.toString().endsWith(".java")).sorted().toList()) {
                filesChecked++;
                List<String> lines = Files.readAllLines(file);
                for (int lineIndex = 0; lineIndex < lines.size(); lineIndex++) {
                    String code = stripComment(lines.get(lineIndex));
                    for (Pattern pattern : FORBIDDEN) {
                        if (pattern.matcher(code).find()) {
                            violations.add(file + ":" + (lineIndex + 1) + ": " + lines.get(lineIndex).strip());
                        }
                    }
                }
            }
        }
        assertTrue(filesChecked > 50, "expected the core sources, found only " + filesChecked + " files");
        assertEquals(List.of(), violations, "core/src/main must stay pure (see DESIGN.md)");
    }

    @Test
    void theCheckCatchesAForbiddenCall() {
        String line = "long now = System.nanoTime(); // for timing";
        assertTrue(FORBIDDEN.stream().anyMatch(pattern -> pattern.matcher(stripComment(line)).find()));
        String commentOnly = " * the runtime calls System.nanoTime(), the core never does";
        assertTrue(FORBIDDEN.stream().noneMatch(pattern -> pattern.matcher(stripComment(commentOnly)).find()));
    }

    /** Drops line comments and Javadoc/block-comment lines, so prose may name what code may not use. */
    private static String stripComment(String line) {
        String trimmed = line.strip();
        if (trimmed.startsWith("*") || trimmed.startsWith("/*") || trimmed.startsWith("//")) {
            return "";
        }
        int lineComment = line.indexOf("//");
        return lineComment >= 0 ? line.substring(0, lineComment) : line;
    }
}
