package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With the lease-reads server option, LEASE reads are served from the leader's lease and stay correct across a leader change. */
class KvNodeLeaseReadTest {
    @TempDir
    Path dir;

    @Test
    void leaseReadsSeeEveryAcknowledgedWrite() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).withLeaseReads().startAll(); KvClient client = cluster.client()) {
            ByteString key = ByteString.copyFromUtf8("lease/k");
            for (int i = 0; i < 20; i++) {
                client.put(key, ByteString.copyFromUtf8("v" + i));
                assertEquals(Optional.of(ByteString.copyFromUtf8("v" + i)), client.get(key, ReadConsistency.LEASE));
            }
            Store leader = cluster.awaitLeader();
            assertTrue(leader.leaseReadsServed(GROUP) > 0, "no read was served from the lease");
            cluster.stop(leader.storeId());
            client.put(key, ByteString.copyFromUtf8("after"));
            assertNotEquals(leader.storeId(), cluster.awaitLeader().storeId());
            assertEquals(Optional.of(ByteString.copyFromUtf8("after")), client.get(key, ReadConsistency.LEASE));
        }
    }
}
