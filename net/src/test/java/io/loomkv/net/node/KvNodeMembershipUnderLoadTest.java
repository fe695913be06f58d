package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.NodeStatusReply;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5: membership changes and leadership transfers under load lose nothing. Clients append to
 * their own keys (checking every read against what they wrote) while a learner joins and is
 * promoted, leadership moves to it, the old leader is removed and leadership moves again. Then
 * every acknowledged append must be present exactly once, in order, and the whole history must be
 * linearizable.
 */
class KvNodeMembershipUnderLoadTest {
    private static final int CLIENTS = 3;

    @TempDir
    Path dir;

    @Test
    void membershipChangesAndLeaderTransfersUnderLoadLoseNothing() throws Exception {
        ClientHistory history = new ClientHistory();
        List<String> failures = new ArrayList<>();
        ConcurrentLinkedQueue<String> clientFailures = new ConcurrentLinkedQueue<>();
        KvLabScenariosTest.Scenario load = new KvLabScenariosTest.Scenario(CLIENTS, 3, false, false, false,
                KvLabScenariosTest.NO_SNAPSHOTS, false);
        try (LocalCluster cluster = new LocalCluster(dir, 3, 40).startAll()) {
            cluster.awaitLeader();
            MemberAddress fourth = cluster.reserve(4); // before the clients exist, so they know node 4 too
            AtomicBoolean done = new AtomicBoolean();
            List<KvLabScenariosTest.ClientRun> runs = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            List<List<String>> keys = IntStream.range(0, CLIENTS).mapToObj(c -> List.of(Integer.toString(c))).toList();
            for (int c = 0; c < CLIENTS; c++) {
                KvLabScenariosTest.ClientRun run = new KvLabScenariosTest.ClientRun(c, keys, new Random(7_000 + c));
                runs.add(run);
                threads.add(Thread.ofPlatform().name("member-load-" + c).start(() -> {
                    try (KvClient client = cluster.client()) {
                        run.loop(client, history, load, done, clientFailures);
                    }
                }));
            }
            try (KvClient admin = cluster.client()) {
                awaitProgress(history);
                cluster.start(4);
                AdminReply added = admin.addMember(4, MemberAddress.format(fourth.clientAddress()),
                        MemberAddress.format(fourth.peerAddress()));
                assertTrue(added.getOk(), added.getMessage());
                LocalCluster.awaitCondition("node 4 is promoted to voter", () -> {
                    NodeStatusReply status = admin.status(cluster.address(cluster.awaitLeader().storeId()).clientAddress());
                    return status.getMembersList().stream().anyMatch(m -> m.getId() == 4 && !m.getLearner());
                });
                awaitProgress(history);
                long oldLeader = cluster.awaitLeader().storeId();
                if (oldLeader == 4) {
                    oldLeader = 1;
                }
                transferTo(cluster, admin, 4);
                awaitProgress(history);
                long removed = oldLeader;
                AdminReply removal = admin.removeMember(removed);
                assertTrue(removal.getOk(), removal.getMessage());
                LocalCluster.awaitCondition("node " + removed + " stops serving", () -> cluster.node(removed).unavailableReason(GROUP) != null);
                awaitProgress(history);
                long next = removed == 2 ? 3 : 2;
                transferTo(cluster, admin, next);
                awaitProgress(history);
            }
            done.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
            failures.addAll(clientFailures);
            try (KvClient checker = cluster.client()) {
                for (KvLabScenariosTest.ClientRun clientRun : runs) {
                    KvLabScenariosTest.KeyRun run = clientRun.keys.get(0);
                    Optional<KvOutput> value = history.run(checker, 1_000, new KvInput.Get(run.key));
                    assertTrue(value.isPresent(), "final read of " + run.key + " got no answer");
                    String v = KvLabScenariosTest.valueOf(value.get());
                    if (run.certain && !run.last.equals(v)) {
                        failures.add("key " + run.key + " wanted " + run.last + " got " + v);
                    }
                    KvLabScenariosTest.checkClientAppends(failures, clientRun.clientNumber, v, run.acknowledged, run.unanswered);
                    assertTrue(run.acknowledged.size() > 10, "client " + clientRun.clientNumber + " got only "
                            + run.acknowledged.size() + " appends acknowledged");
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        KvLabScenariosTest.assertLinearizable(history);
    }

    /** Waits until the clients completed 30 more operations: the cluster serves after the last change. */
    private static void awaitProgress(ClientHistory history) {
        int before = history.completed();
        LocalCluster.awaitCondition("clients make progress", () -> history.completed() >= before + 30);
    }

    /** Asks for a transfer to {@code target}, again every second until it leads (the target may lag under load). */
    private static void transferTo(LocalCluster cluster, KvClient admin, long target) {
        long[] lastAskNanos = {0};
        LocalCluster.awaitCondition("node " + target + " leads", () -> {
            if (cluster.node(target).isLeader(GROUP)) {
                return true;
            }
            if (System.nanoTime() - lastAskNanos[0] > 1_000_000_000L) {
                lastAskNanos[0] = System.nanoTime();
                admin.transferLeader(target);
            }
            return false;
        });
    }
}
