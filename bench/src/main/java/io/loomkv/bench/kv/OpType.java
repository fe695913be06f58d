package io.loomkv.bench.kv;

import java.util.Locale;

/** The operation types the load generator issues, each with its own latency histogram. */
public enum OpType {
    READ, UPDATE, INSERT, SCAN, RMW;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
