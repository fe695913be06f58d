package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.loomkv.core.raft.proto.Entry;
import java.nio.ByteBuffer;
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
}
