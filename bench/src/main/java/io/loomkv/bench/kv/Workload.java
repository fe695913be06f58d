package io.loomkv.bench.kv;

/**
 * The built-in workloads: YCSB's core workloads A to F (with YCSB's request distributions and
 * its 1,000-byte records) and loomkv's seed workload, the design notes' test: 16-byte keys and values of 4 KB minus the key
 * (key and value together 4,096 bytes), 50/50 reads and writes, uniform keys.
 * Explicit flags override these defaults.
 */
public enum Workload {
    A("update heavy", new OperationMix(0.5, 0.5, 0, 0, 0), KeyDistribution.ZIPFIAN, 1000),
    B("read mostly", new OperationMix(0.95, 0.05, 0, 0, 0), KeyDistribution.ZIPFIAN, 1000),
    C("read only", new OperationMix(1.0, 0, 0, 0, 0), KeyDistribution.ZIPFIAN, 1000),
    D("read latest", new OperationMix(0.95, 0, 0.05, 0, 0), KeyDistribution.LATEST, 1000),
    E("short ranges", new OperationMix(0, 0, 0.05, 0.95, 0), KeyDistribution.ZIPFIAN, 1000),
    F("read-modify-write", new OperationMix(0.5, 0, 0, 0, 0.5), KeyDistribution.ZIPFIAN, 1000),
    SEED("seed: key + value = 4 KB, 50/50", new OperationMix(0.5, 0.5, 0, 0, 0), KeyDistribution.UNIFORM,
            Workload.SEED_RECORD_BYTES - KeySpace.KEY_SIZE_BYTES);

    /** The seed workload's key and value together: 4 KB. */
    public static final int SEED_RECORD_BYTES = 4096;

    private final String description;
    private final OperationMix mix;
    private final KeyDistribution distribution;
    private final int valueSizeBytes;

    Workload(String description, OperationMix mix, KeyDistribution distribution, int valueSizeBytes) {
        this.description = description;
        this.mix = mix;
        this.distribution = distribution;
        this.valueSizeBytes = valueSizeBytes;
    }

    public String description() {
        return description;
    }

    public OperationMix mix() {
        return mix;
    }

    public KeyDistribution distribution() {
        return distribution;
    }

    public int valueSizeBytes() {
        return valueSizeBytes;
    }
}
