package io.loomkv.tools;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.proto.AdminReply;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code ctl move-leaders --from ID}: hands every group store {@code ID} leads to another of the
 * group's replicas, and waits until each of those groups has a leader other than it. What a store runs before it is stopped on
 * purpose (the Kubernetes preStop hook, a rolling restart), so its groups elect no new leader
 * after an election timeout of unavailability but change leader at once. Targets are spread over
 * the other replicas that answered, so the leaders do not all land on one store.
 */
final class LeaderMove {
    private static final Duration POLL_INTERVAL = Duration.ofMillis(200);

    private LeaderMove() {
    }

    /** Returns the exit code: 0 when {@code from} leads no group at the end, else 1. */
    static int run(KvClient client, ClusterTarget target, long from, Duration timeout, PrintStream out) {
        Optional<GroupTable> table = GroupTable.gather(client, target.clientAddresses());
        if (table.isEmpty()) {
            System.err.println("error: no store answered");
            return 1;
        }
        List<GroupTable.Group> led = table.get().groups().stream().filter(g -> g.leaderId() == from).toList();
        if (led.isEmpty()) {
            out.println("store " + from + " leads no group");
            return 0;
        }
        for (GroupTable.Group group : led) {
            List<Long> others = group.replicas().stream()
                    .filter(id -> id != from && table.get().answeredStores().contains(id)).toList();
            if (others.isEmpty()) {
                out.println("group " + group.id() + ": no other replica answered; leadership stays with store " + from);
                continue;
            }
            long to = others.get((int) (group.id() % others.size()));
            AdminReply reply = client.transferLeader(group.id(), to);
            out.println("group " + group.id() + ": " + (reply.getOk() ? "moving to store " + to : "refused: " + reply.getMessage()));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Long> stillLed = led.stream().map(GroupTable.Group::id).toList();
        while (!stillLed.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(POLL_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            Optional<GroupTable> now = GroupTable.gather(client, target.clientAddresses());
            if (now.isPresent()) {
                // Done when another store leads: between the hand-over and the new leader's first
                // heartbeat the group has none, and stopping the store then would gain nothing.
                List<Long> moving = stillLed;
                stillLed = now.get().groups().stream().filter(g -> moving.contains(g.id()))
                        .filter(g -> g.leaderId() == from || g.leaderId() == 0).map(GroupTable.Group::id).toList();
            }
        }
        if (!stillLed.isEmpty()) {
            System.err.println("error: groups " + CompactRanges.ids(stillLed) + " still have store " + from
                    + " or no store as leader after " + timeout.toMillis() + " ms");
            return 1;
        }
        out.println("store " + from + " leads no group");
        return 0;
    }
}
