package io.loomkv.net.client;

import io.loomkv.core.kv.proto.GetResult;

/**
 * A key's time to live as a replica saw it ({@link KvClient#ttl}): whether the key exists, and if
 * it has a deadline, the deadline (Unix milliseconds) and the time left until it by the answering
 * replica's clock.
 *
 * @param exists false when the key does not exist (or has expired)
 * @param expiresAtMillis the deadline, 0 when the key has none
 * @param remainingMillis the time left, 0 when the key has no deadline
 */
public record KeyTtl(boolean exists, long expiresAtMillis, long remainingMillis) {
    private static final KeyTtl ABSENT = new KeyTtl(false, 0, 0);

    public KeyTtl {
        if (expiresAtMillis < 0 || remainingMillis < 0 || (!exists && expiresAtMillis != 0)) {
            throw new IllegalArgumentException("inconsistent ttl: exists " + exists + ", deadline " + expiresAtMillis
                    + ", remaining " + remainingMillis);
        }
    }

    public static KeyTtl absent() {
        return ABSENT;
    }

    /** From a get reply's result (the key exists). */
    public static KeyTtl of(GetResult result) {
        return new KeyTtl(true, result.getExpiresAtMillis(), result.getRemainingMillis());
    }

    /** Whether the key has a deadline. */
    public boolean expires() {
        return expiresAtMillis != 0;
    }
}
