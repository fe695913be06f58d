package io.loomkv.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KeysTest {
    @Test
    void orderIsUnsignedLexicographic() {
        assertTrue(Keys.compare(new byte[] {0x7F}, new byte[] {(byte) 0x80}) < 0, "0x7F sorts before 0x80");
        assertTrue(Keys.compare(new byte[] {1}, new byte[] {1, 0}) < 0, "a prefix sorts first");
        assertTrue(Keys.compare(new byte[] {}, new byte[] {0}) < 0);
    }

    @Test
    void prefixEndIsTheFirstKeyAfterThePrefixRange() {
        assertArrayEquals(new byte[] {'a', 'c'}, Keys.prefixEnd(new byte[] {'a', 'b'}));
        assertArrayEquals(new byte[] {'b'}, Keys.prefixEnd(new byte[] {'a', (byte) 0xFF}));
        assertNull(Keys.prefixEnd(new byte[] {(byte) 0xFF, (byte) 0xFF}));
        assertNull(Keys.prefixEnd(new byte[] {}));
    }

    @Test
    void successorIsTheSmallestGreaterKey() {
        assertArrayEquals(new byte[] {'a', 0}, Keys.successor(new byte[] {'a'}));
    }

    @Test
    void scanRequestsAreValidatedAndKnowTheirRange() {
        assertThrows(IllegalArgumentException.class, () -> ScanRequest.range(new byte[0], null, 0));
        assertThrows(IllegalArgumentException.class, () -> ScanRequest.range(new byte[0], null, ScanRequest.MAX_LIMIT + 1));
        assertThrows(IllegalArgumentException.class, () -> new ScanRequest(null, null, 10, 10));
        ScanRequest prefix = ScanRequest.prefix(new byte[] {'u', '/'}, 10);
        assertTrue(prefix.contains(new byte[] {'u', '/', 'x'}));
        assertFalse(prefix.contains(new byte[] {'u', '0'}));
        assertFalse(prefix.contains(new byte[] {'u'}));
    }

    @Test
    void writeBatchesAreBounded() {
        java.util.List<WriteOp> ops = new java.util.ArrayList<>();
        for (int i = 0; i <= WriteBatch.MAX_OPS; i++) {
            ops.add(new WriteOp.Delete(new byte[] {1}));
        }
        assertThrows(IllegalArgumentException.class, () -> new WriteBatch(ops));
    }
}
