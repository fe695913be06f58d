package io.loomkv.tools;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CLI tests run stores in the test's JVM and capture System.out to read ctl's output; the
 * stores' INFO lines (elections, liveness flaps on a loaded machine) would land in the same
 * capture. These tests raise the stores' log level to WARN while they run.
 */
final class QuietStoreLogs {
    private static final Logger LOOMKV = (Logger) LoggerFactory.getLogger("io.loomkv");

    private QuietStoreLogs() {
    }

    /** Raises io.loomkv to WARN; returns the level to restore. */
    static Level raise() {
        Level before = LOOMKV.getLevel();
        LOOMKV.setLevel(Level.WARN);
        return before;
    }

    static void restore(Level before) {
        LOOMKV.setLevel(before);
    }
}
