package io.loomkv.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A snapshot stream summarized without an engine (what {@code snapshot status} shows of a backup), checked as a restore checks it. */
class KvSnapshotSummaryTest {
    private final KvFixture source = new KvFixture();

    private byte[] snapshot() throws IOException {
        KvFixture.Client client = source.client();
        for (int i = 0; i < 300; i++) {
            client.put("key-" + i, "value-" + i);
        }
        source.client().put("other", "x");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        source.machine.writeSnapshot(out);
        return out.toByteArray();
    }

    @Test
    void countsKeysBytesAndSessionsAtTheSnapshotsIndex() throws IOException {
        byte[] stream = snapshot();
        KvSnapshotSummary summary = KvSnapshotSummary.read(new ByteArrayInputStream(stream), KvLimits.defaults(), 1);
        long dataBytes = 0;
        for (Map.Entry<ByteString, ByteString> entry : source.engine.contents().entrySet()) {
            dataBytes += entry.getKey().size() + entry.getValue().size();
        }
        assertEquals(new KvSnapshotSummary(source.machine.lastAppliedIndex(), 2, 301, dataBytes, false), summary);
        assertFalse(summary.controller());
    }

    @Test
    void aDamagedStreamIsRefused() throws IOException {
        byte[] stream = snapshot();
        assertThrows(CorruptSnapshotException.class, () -> KvSnapshotSummary.read(
                new ByteArrayInputStream(Arrays.copyOf(stream, stream.length - 10)), KvLimits.defaults(), 1));
        byte[] flipped = stream.clone();
        flipped[stream.length / 2] ^= 0x01;
        assertThrows(IOException.class, () -> KvSnapshotSummary.read(new ByteArrayInputStream(flipped), KvLimits.defaults(), 1));
        assertThrows(CorruptSnapshotException.class, () -> KvSnapshotSummary.read(new ByteArrayInputStream(stream),
                KvLimits.defaults(), 0), "a data group's snapshot is not the controller's");
    }
}
