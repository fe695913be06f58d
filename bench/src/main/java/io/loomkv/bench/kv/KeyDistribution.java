package io.loomkv.bench.kv;

/** How keys are chosen: uniformly, zipfian (hot keys), or zipfian counted back from the newest insert. */
public enum KeyDistribution {
    UNIFORM, ZIPFIAN, LATEST
}
