package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KeySpaceTest {
    private static String formatted(long index) {
        return String.format("k%015d", index);
    }

    @Test
    void keysAreKPlusFifteenZeroPaddedDigits() {
        SplittableRandom random = new SplittableRandom(7);
        long[] edges = {0, 1, 9, 10, 99, 12_345, 999_999_999, 1_000_000_000, KeySpace.MAX_INDEX - 1, KeySpace.MAX_INDEX};
        for (long index : edges) {
            assertEquals(formatted(index), KeySpace.key(index).toString(StandardCharsets.US_ASCII), "index " + index);
        }
        for (int i = 0; i < 10_000; i++) {
            long index = random.nextLong(KeySpace.MAX_INDEX + 1);
            assertEquals(formatted(index), KeySpace.key(index).toString(StandardCharsets.US_ASCII), "index " + index);
            assertEquals(KeySpace.KEY_SIZE_BYTES, KeySpace.key(index).size());
        }
    }

    @Test
    void keysSortByIndex() {
        assertEquals(-1, Integer.signum(KeySpace.key(99).toStringUtf8().compareTo(KeySpace.key(100).toStringUtf8())));
        assertEquals(-1, Integer.signum(KeySpace.key(KeySpace.MAX_INDEX).toStringUtf8()
                .compareTo(KeySpace.keySpaceEnd().toStringUtf8())));
    }

    @Test
    void indexesOutsideTheKeySpaceAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> KeySpace.key(-1));
        assertThrows(IllegalArgumentException.class, () -> KeySpace.key(KeySpace.MAX_INDEX + 1));
    }
}
