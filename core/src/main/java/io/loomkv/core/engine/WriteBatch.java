package io.loomkv.core.engine;

import java.util.List;

/** Operations applied together and atomically (an LSM engine maps this onto its own write batch). */
public record WriteBatch(List<WriteOp> ops) {
    /** The most operations one batch may hold. */
    public static final int MAX_OPS = 100_000;

    public WriteBatch {
        ops = List.copyOf(ops);
        if (ops.size() > MAX_OPS) {
            throw new IllegalArgumentException("a write batch holds at most " + MAX_OPS + " operations, got " + ops.size());
        }
    }
}
