package io.loomkv.net.node;

import static io.loomkv.net.node.KvLabScenariosTest.NO_SNAPSHOTS;
import static io.loomkv.net.node.KvLabScenariosTest.SHARDED_GROUPS;
import static io.loomkv.net.node.KvLabScenariosTest.SNAPSHOT_EVERY;

import io.loomkv.net.node.KvLabScenariosTest.Scenario;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 6.824 KV scenarios that crash servers, with and without snapshots, on the rocksdb engine: a
 * restarted server comes back from its engine's own state plus the log after it (or a snapshot
 * when the engine is behind), and a lagging one takes InstallSnapshot into the engine. A subset of
 * {@link KvLabScenariosTest} (one persistence and one snapshot scenario, both sharded, crashing and
 * unreliable), plus SnapshotRPC (checkpoints: a file is written only for the lagging follower),
 * to keep the added time small; the others pass on rocksdb too when run by hand.
 */
class KvLabScenariosOnRocksDbTest {
    @TempDir
    Path dir;

    private void run(Scenario scenario, int groups, long seed) throws Exception {
        KvLabScenariosTest lab = new KvLabScenariosTest();
        lab.dir = dir;
        lab.genericTest(scenario, groups, seed, EngineKind.ROCKSDB);
    }

    @Test
    void PersistConcurrentUnreliable() throws Exception {
        run(new Scenario(5, 5, true, true, false, NO_SNAPSHOTS, false), SHARDED_GROUPS, 6);
    }

    /** The lagging follower is sent a file the leader writes for it: its compaction points were checkpoints. */
    @Test
    void SnapshotRPC() throws Exception {
        KvLabScenariosTest lab = new KvLabScenariosTest();
        lab.dir = dir;
        lab.snapshotRpc(SHARDED_GROUPS, EngineKind.ROCKSDB);
    }

    @Test
    void SnapshotUnreliableRecover() throws Exception {
        run(new Scenario(5, 5, true, true, false, SNAPSHOT_EVERY, false), SHARDED_GROUPS, 13);
    }
}
