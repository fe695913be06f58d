package io.loomkv.tools.chaos;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** The current {@link LinkFaults} of every directed peer link; read by the proxies per frame. */
final class LinkTable {
    private record Link(long from, long to) {
    }

    private final ConcurrentHashMap<Link, LinkFaults> links = new ConcurrentHashMap<>();

    LinkFaults get(long from, long to) {
        return links.getOrDefault(new Link(from, to), LinkFaults.NONE);
    }

    void set(long from, long to, LinkFaults faults) {
        if (from == to) {
            throw new IllegalArgumentException("a link needs two different nodes, got " + from + " -> " + to);
        }
        if (faults.isNone()) {
            links.remove(new Link(from, to));
        } else {
            links.put(new Link(from, to), faults);
        }
    }

    /** Every link back to normal. */
    void healAll() {
        links.clear();
    }

    /** The faulty links, for the log: {@code "1->2" -> faults}. */
    Map<String, LinkFaults> describe() {
        Map<String, LinkFaults> out = new TreeMap<>();
        links.forEach((link, faults) -> out.put(link.from() + "->" + link.to(), faults));
        return out;
    }
}
