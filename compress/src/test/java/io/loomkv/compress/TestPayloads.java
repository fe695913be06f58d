package io.loomkv.compress;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Seeded payload generators for codec tests. */
final class TestPayloads {

    private TestPayloads() {}

    /** Uniformly random bytes: incompressible. */
    static byte[] random(int sizeBytes, long seed) {
        byte[] data = new byte[sizeBytes];
        new Random(seed).nextBytes(data);
        return data;
    }

    /** One repeated byte: the best case for any compressor. */
    static byte[] constant(int sizeBytes, byte value) {
        byte[] data = new byte[sizeBytes];
        java.util.Arrays.fill(data, value);
        return data;
    }

    /**
     * KV-like records ("user:000123=name-xyz;balance=42|..."): semi-compressible, like log entries
     * of a key-value store, with random digits and short random words.
     */
    static byte[] kvRecords(int sizeBytes, long seed) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(sizeBytes + 64);
        while (text.length() < sizeBytes) {
            text.append("user:").append(String.format("%06d", random.nextInt(1_000_000)));
            text.append("=name-");
            for (int i = 0; i < 6; i++) {
                text.append((char) ('a' + random.nextInt(26)));
            }
            text.append(";balance=").append(random.nextInt(100_000)).append('|');
        }
        byte[] all = text.toString().getBytes(StandardCharsets.US_ASCII);
        return java.util.Arrays.copyOf(all, sizeBytes);
    }
}
