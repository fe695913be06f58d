package io.loomkv.net.node;

import java.nio.file.Path;
import java.util.List;

/**
 * The child process of {@link StoreCrashTest}: runs a one-store cluster with several data groups
 * and fsync on, prints "READY" once it serves, and runs until killed. Arguments: the data
 * directory, the client and peer addresses (host:port), the number of data groups, the snapshot
 * threshold in entries, and optionally the engine (memory by default).
 */
public final class StoreCrashChild {
    private StoreCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDirectory = Path.of(args[0]);
        MemberAddress self = new MemberAddress(1, MemberAddress.parseHostPort(args[1]), MemberAddress.parseHostPort(args[2]));
        int groups = Integer.parseInt(args[3]);
        long snapshotThresholdEntries = Long.parseLong(args[4]);
        NodeConfig config = new NodeConfig(1, LocalCluster.CLUSTER_ID, self.clientAddress(), self.peerAddress(), dataDirectory,
                List.of(self), false, 20, 10, 1, snapshotThresholdEntries, true, false, 1024, 64 * 1024, 5_000, groups, 0,
                NodeConfig.DEFAULT_RAFT_WORKERS, NodeConfig.DEFAULT_APPLY_THREADS)
                .withEngine(EngineConfig.defaults(args.length > 5 ? EngineKind.parse(args[5]) : EngineKind.MEMORY));
        Store store = Store.start(config);
        System.out.println("READY " + store.groups());
        System.out.flush();
        while (true) {
            Thread.sleep(60_000);
        }
    }
}
