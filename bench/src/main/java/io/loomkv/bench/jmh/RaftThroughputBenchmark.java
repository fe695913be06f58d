package io.loomkv.bench.jmh;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.RaftConfig;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.Ready;
import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.Message;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Entries committed per second through a 3-node Raft cluster in one thread: in-memory storage,
 * messages delivered in-process, no I/O. Each invocation proposes {@value #ENTRIES_PER_INVOCATION}
 * entries of {@code entryBytes} bytes to the leader, in groups of {@code proposalsPerReady} (as a
 * runtime drains its proposal queue between Readies), and runs the Ready loop of all three nodes
 * until every entry is committed and applied on the leader. The score is entries per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RaftThroughputBenchmark {
    static final int ENTRIES_PER_INVOCATION = 4096;
    /** Compact the in-memory logs once they hold this many entries, to keep memory flat. */
    private static final long COMPACT_AFTER_ENTRIES = 200_000;

    @Param("128")
    public int entryBytes;

    @Param("256")
    public int proposalsPerReady;

    private RaftNode[] nodes;
    private MemoryStorage[] storages;
    private final ArrayDeque<Message> network = new ArrayDeque<>();
    private ByteString payload;
    private long appliedOnLeader;

    @Setup(Level.Trial)
    public void setUp() {
        List<Long> voters = List.of(1L, 2L, 3L);
        nodes = new RaftNode[3];
        storages = new MemoryStorage[3];
        for (int i = 0; i < 3; i++) {
            storages[i] = MemoryStorage.bootstrap(voters);
            RaftConfig config = RaftConfig.builder(i + 1).randomSeed(1).electionTimeoutTicks(10).heartbeatTicks(1)
                    .maxInflightAppends(256).maxEntriesPerAppend(4096).maxAppendSizeBytes(1 << 20)
                    .maxCommittedSizePerReadyBytes(8L << 20).build();
            nodes[i] = new RaftNode(config, storages[i]);
        }
        byte[] bytes = new byte[entryBytes];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        payload = ByteString.copyFrom(bytes);
        nodes[0].campaign();
        pumpUntilQuiet();
        if (nodes[0].softState().role() != Role.LEADER) {
            throw new IllegalStateException("node 1 did not become leader: " + nodes[0]);
        }
    }

    @Benchmark
    @OperationsPerInvocation(ENTRIES_PER_INVOCATION)
    public void commitEntries(Blackhole blackhole) {
        long target = appliedOnLeader + ENTRIES_PER_INVOCATION;
        int proposed = 0;
        while (appliedOnLeader < target) {
            int group = Math.min(proposalsPerReady, ENTRIES_PER_INVOCATION - proposed);
            for (int i = 0; i < group; i++) {
                nodes[0].propose(payload);
            }
            proposed += group;
            pumpOnce(blackhole);
        }
        maybeCompact();
    }

    private void pumpUntilQuiet() {
        for (int guard = 0; guard < 10_000; guard++) {
            if (!pumpOnce(null)) {
                return;
            }
        }
        throw new IllegalStateException("cluster did not settle");
    }

    /** One Ready per node, then delivers every message in flight; true if anything happened. */
    private boolean pumpOnce(Blackhole blackhole) {
        boolean any = false;
        for (int i = 0; i < 3; i++) {
            RaftNode node = nodes[i];
            if (!node.hasReady()) {
                continue;
            }
            any = true;
            Ready rd = node.ready();
            network.addAll(rd.messagesBeforePersist());
            storages[i].append(rd.entries());
            if (rd.hardState() != null) {
                storages[i].setHardState(rd.hardState());
            }
            network.addAll(rd.messagesAfterPersist());
            List<Entry> committed = rd.committedEntries();
            if (!committed.isEmpty()) {
                if (i == 0) {
                    appliedOnLeader += committed.size();
                }
                if (blackhole != null) {
                    blackhole.consume(committed.get(committed.size() - 1));
                }
            }
            node.advance();
        }
        Message m;
        while ((m = network.pollFirst()) != null) {
            any = true;
            nodes[(int) m.getTo() - 1].step(m);
        }
        return any;
    }

    private void maybeCompact() {
        for (int i = 0; i < 3; i++) {
            MemoryStorage s = storages[i];
            if (s.lastIndex() - s.firstIndex() > COMPACT_AFTER_ENTRIES) {
                long applied = nodes[i].status().appliedIndex();
                if (applied > s.firstIndex()) {
                    s.compact(applied);
                }
            }
        }
    }
}
