package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryStorageTest {

    private static List<Entry> entries(long from, long to, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(Entry.newBuilder().setIndex(i).setTerm(term).setData(ByteString.copyFrom(new byte[10])).build());
        }
        return out;
    }

    @Test
    void appendReplacesConflictingSuffix() {
        MemoryStorage s = new MemoryStorage();
        s.append(entries(1, 5, 1));
        s.append(entries(4, 6, 2));
        assertEquals(6, s.lastIndex());
        assertEquals(1, s.term(3));
        assertEquals(2, s.term(4));
        assertThrows(IllegalStateException.class, () -> s.append(entries(9, 9, 2)));
    }

    @Test
    void entriesAreBoundedBySizeButReturnAtLeastOne() {
        MemoryStorage s = new MemoryStorage();
        s.append(entries(1, 10, 1));
        int one = entries(1, 1, 1).get(0).getSerializedSize();
        assertEquals(3, s.entries(1, 11, 3L * one).size());
        assertEquals(1, s.entries(1, 11, 1).size());
        assertThrows(UnavailableException.class, () -> s.entries(1, 12, 1000));
    }

    @Test
    void compactKeepsTermOfCompactedIndexAndRefusesOldIndexes() {
        MemoryStorage s = new MemoryStorage();
        s.append(entries(1, 10, 3));
        s.compact(4);
        assertEquals(5, s.firstIndex());
        assertEquals(3, s.term(4));
        assertThrows(CompactedException.class, () -> s.term(3));
        assertThrows(CompactedException.class, () -> s.entries(4, 6, 1000));
        assertThrows(CompactedException.class, () -> s.compact(4));
    }

    @Test
    void snapshotChunksAreBoundedAndTiedToTheNewestSnapshot() {
        MemoryStorage s = new MemoryStorage();
        s.append(entries(1, 10, 1));
        ByteString data = ByteString.copyFromUtf8("0123456789abcdef");
        SnapshotMetadata meta = s.createSnapshot(8, ConfState.newBuilder().addVoters(1).build(), data);
        assertEquals(16, meta.getSizeBytes());
        assertEquals(ByteString.copyFromUtf8("0123"), s.readSnapshotChunk(meta, 0, 4));
        assertEquals(ByteString.copyFromUtf8("cdef"), s.readSnapshotChunk(meta, 12, 100));
        assertEquals(ByteString.EMPTY, s.readSnapshotChunk(meta, 16, 100));
        s.createSnapshot(9, meta.getConfState(), data);
        assertThrows(SnapshotUnavailableException.class, () -> s.readSnapshotChunk(meta, 0, 4));
    }

    @Test
    void applySnapshotReplacesTheLog() {
        MemoryStorage s = new MemoryStorage();
        s.append(entries(1, 3, 1));
        SnapshotMetadata meta = SnapshotMetadata.newBuilder().setIndex(20).setTerm(4).setSizeBytes(2)
                .setConfState(ConfState.newBuilder().addVoters(1)).build();
        assertThrows(IllegalArgumentException.class, () -> s.applySnapshot(meta, ByteString.copyFromUtf8("x")));
        s.applySnapshot(meta, ByteString.copyFromUtf8("xy"));
        assertEquals(21, s.firstIndex());
        assertEquals(20, s.lastIndex());
        assertEquals(4, s.term(20));
        assertEquals(meta.getConfState(), s.initialState().confState());
    }
}
