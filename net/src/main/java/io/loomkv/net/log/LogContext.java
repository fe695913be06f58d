package io.loomkv.net.log;

import java.util.concurrent.ThreadFactory;
import org.slf4j.MDC;

/**
 * The logging context of a store's threads, in SLF4J's MDC: {@value #NODE} (the store's node id)
 * on every thread the store starts, and {@value #GROUP} (the Raft group) while a thread works for
 * one group (a Raft turn, an apply batch). A text log shows them with {@code %X{node}}, the JSON
 * log under {@code "mdc"}; several stores in one JVM (tests, {@code ./loomkv demo}) stay apart.
 *
 * <p>The MDC is per thread, and a virtual thread inherits none of it, so context has to be handed
 * on where threads start: {@link #node(long)} puts the node id on the thread that starts a store
 * for as long as it starts it, and {@link #inheritNode(Runnable)} wraps each long-lived loop and
 * connection thread so that it carries the node id of the thread that created it. Only the node id
 * is handed on: a connection thread opened during one group's turn serves every group.
 */
public final class LogContext {
    /** The MDC key of the store's node id. */
    public static final String NODE = "node";
    /** The MDC key of the Raft group a thread works for at the moment. */
    public static final String GROUP = "group";
    /** The MDC key of that group's current Raft term, during its replica's turn. */
    public static final String TERM = "term";
    /** Group ids below this have their label made once: the label is put on every turn. */
    private static final int CACHED_GROUP_LABELS = 4096;
    private static final String[] GROUP_LABELS = new String[CACHED_GROUP_LABELS];

    private LogContext() {
    }

    /** Restores the thread's previous node id when closed. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Sets the node id on this thread until the scope closes (then the previous one, if any, is back). */
    public static Scope node(long nodeId) {
        String previous = MDC.get(NODE);
        MDC.put(NODE, Long.toString(nodeId));
        return () -> {
            if (previous == null) {
                MDC.remove(NODE);
            } else {
                MDC.put(NODE, previous);
            }
        };
    }

    /** {@code task}, run with the node id the calling thread has now (none: as it is). For new threads. */
    public static Runnable inheritNode(Runnable task) {
        String node = MDC.get(NODE);
        if (node == null) {
            return task;
        }
        return () -> {
            MDC.put(NODE, node);
            task.run();
        };
    }

    /**
     * Threads from {@code factory} that carry the node id the calling thread has now, whichever
     * thread asks for them later (the JDK's HTTP server asks from its own dispatcher thread).
     */
    public static ThreadFactory inheritNode(ThreadFactory factory) {
        String node = MDC.get(NODE);
        if (node == null) {
            return factory;
        }
        return task -> factory.newThread(() -> {
            MDC.put(NODE, node);
            task.run();
        });
    }

    /** Marks this thread as working for {@code groupId} until {@link #leaveGroup()}. */
    public static void enterGroup(long groupId) {
        MDC.put(GROUP, groupLabel(groupId));
    }

    public static void leaveGroup() {
        MDC.remove(GROUP);
        MDC.remove(TERM);
    }

    /**
     * The term of the group this thread works for, until {@link #leaveGroup()}; the caller keeps
     * the label (made once per term, not per turn).
     */
    public static void term(String termLabel) {
        MDC.put(TERM, termLabel);
    }

    private static String groupLabel(long groupId) {
        if (groupId < 0 || groupId >= CACHED_GROUP_LABELS) {
            return Long.toString(groupId);
        }
        String label = GROUP_LABELS[(int) groupId];
        if (label == null) {
            // A race makes two equal strings; either is fine.
            label = Long.toString(groupId);
            GROUP_LABELS[(int) groupId] = label;
        }
        return label;
    }
}
