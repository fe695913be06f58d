package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.loomkv.core.raft.proto.Entry;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class WalRecordCodecTest {
    @Test
    void recordsAreEightByteAlignedWithHeaderAndPadding() {
        assertEquals(16, WalRecordCodec.recordBytes(0));
        assertEquals(24, WalRecordCodec.recordBytes(1));
        assertEquals(24, WalRecordCodec.recordBytes(8));
        assertEquals(32, WalRecordCodec.recordBytes(9));
        assertThrows(IllegalArgumentException.class, () -> WalRecordCodec.recordBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> WalRecordCodec.recordBytes(WalRecordCodec.MAX_PAYLOAD_BYTES + 1));
    }

    @Test
    void messageAndByteEncodingsAreIdenticalAndCarryBothChecksums() {
        Entry entry = WalTestSupport.entry(42, 7, 123);
        byte[] fromMessage = WalRecordCodec.encode(WalRecordType.ENTRY, entry);
        byte[] fromBytes = WalRecordCodec.encode(WalRecordType.ENTRY, entry.toByteArray());
        ByteBuffer viaBuffer = ByteBuffer.allocate(fromBytes.length);
        WalRecordCodec.encode(WalRecordType.ENTRY, entry.toByteArray(), viaBuffer);
        assertArrayEquals(fromBytes, fromMessage);
        assertArrayEquals(fromBytes, viaBuffer.array());
        ByteBuffer header = ByteBuffer.wrap(fromMessage).order(ByteOrder.LITTLE_ENDIAN);
        int length = entry.getSerializedSize();
        assertEquals(length, header.getInt(0));
        assertEquals(WalRecordType.ENTRY.code(), header.get(4));
        assertEquals(WalRecordCodec.payloadCrc(fromMessage, 16, length), header.getInt(8));
        assertEquals(WalRecordCodec.headerCrc(header, 0), header.getInt(12));
    }

    @Test
    void recordsEncodedSideBySideInOneArrayMatchSeparateEncodingsEvenOverStaleBytes() {
        Entry first = WalTestSupport.entry(1, 2, 13);
        Entry second = WalTestSupport.entry(2, 2, 100);
        byte[] one = WalRecordCodec.encode(WalRecordType.ENTRY, first);
        byte[] two = WalRecordCodec.encode(WalRecordType.ENTRY, second);
        byte[] both = new byte[one.length + two.length + 8];
        Arrays.fill(both, (byte) 0x5a); // padding and reserved header bytes must be written, not assumed zero
        assertEquals(one.length, WalRecordCodec.encode(WalRecordType.ENTRY, first, both, 0));
        assertEquals(two.length, WalRecordCodec.encode(WalRecordType.ENTRY, second, both, one.length));
        assertArrayEquals(one, Arrays.copyOfRange(both, 0, one.length));
        assertArrayEquals(two, Arrays.copyOfRange(both, one.length, one.length + two.length));
        assertEquals((byte) 0x5a, both[both.length - 1], "nothing written past the records");
        assertThrows(IllegalArgumentException.class, () -> WalRecordCodec.encode(WalRecordType.ENTRY, second, both, one.length + 16),
                "a record that does not fit is refused before anything is written");
    }
}
