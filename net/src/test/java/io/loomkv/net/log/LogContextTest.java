package io.loomkv.net.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * The node id reaches the threads a store starts, and the threads those start, but the group of
 * the moment does not; a scope gives back the thread's previous node id.
 */
class LogContextTest {
    @AfterEach
    void clear() {
        MDC.clear();
    }

    /** The node and group a new virtual thread running {@code task} sees. */
    private static String[] seenBy(java.util.function.Function<Runnable, Runnable> wrap) throws InterruptedException {
        AtomicReference<String[]> seen = new AtomicReference<>();
        Thread.ofVirtual().start(wrap.apply(() -> seen.set(new String[] {MDC.get(LogContext.NODE), MDC.get(LogContext.GROUP)})))
                .join();
        return seen.get();
    }

    @Test
    void aScopeSetsTheNodeAndGivesBackThePreviousOne() {
        try (LogContext.Scope outer = LogContext.node(1)) {
            assertEquals("1", MDC.get(LogContext.NODE));
            try (LogContext.Scope inner = LogContext.node(2)) {
                assertEquals("2", MDC.get(LogContext.NODE));
            }
            assertEquals("1", MDC.get(LogContext.NODE));
        }
        assertNull(MDC.get(LogContext.NODE));
    }

    @Test
    void newThreadsCarryTheNodeOfTheirCreatorButNotItsGroup() throws InterruptedException {
        assertEquals(null, seenBy(LogContext::inheritNode)[0], "no node: nothing to carry");
        try (LogContext.Scope ignored = LogContext.node(3)) {
            LogContext.enterGroup(12);
            assertEquals("12", MDC.get(LogContext.GROUP));
            String[] seen = seenBy(LogContext::inheritNode);
            assertEquals("3", seen[0]);
            assertNull(seen[1], "a thread opened during one group's turn serves every group");
            String[] grandchild = seenBy(task -> LogContext.inheritNode(() -> {
                try {
                    Thread.ofVirtual().start(LogContext.inheritNode(task)).join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            assertEquals("3", grandchild[0], "handed on again by the thread that got it");
            LogContext.term("5");
            assertEquals("5", MDC.get(LogContext.TERM));
            LogContext.leaveGroup();
            assertNull(MDC.get(LogContext.GROUP));
            assertNull(MDC.get(LogContext.TERM), "the term goes with the group");
        }
    }

    @Test
    void aThreadFactoryCarriesTheNodeOfWhoeverMadeIt() throws Exception {
        ThreadFactory factory;
        try (LogContext.Scope ignored = LogContext.node(4)) {
            factory = LogContext.inheritNode(Thread.ofVirtual().factory());
        }
        AtomicReference<String> seen = new AtomicReference<>();
        try (var executor = Executors.newThreadPerTaskExecutor(factory)) {
            executor.submit(() -> seen.set(MDC.get(LogContext.NODE))).get();
        }
        assertEquals("4", seen.get(), "threads made later, from a thread without a node, still carry it");
    }
}
