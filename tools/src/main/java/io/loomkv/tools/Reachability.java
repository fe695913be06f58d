package io.loomkv.tools;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Whether any store of a cluster answers at all, asked before a ctl command runs: without it a
 * command against a stopped cluster retried until its deadline (10 s by default) and then
 * reported a timeout. Every address is asked for its status at once (one RPC each, on virtual
 * threads); the first answer ends the wait, and so does the failure of every one of them (a
 * refused connection fails at once, a silent host after the RPC layer's connect timeout). A slow
 * answer is waited for until the command's deadline: a loaded machine must not make a running
 * cluster look unreachable. A cluster that answers but has no leader yet still gets the whole
 * deadline, since an election ends within about a second.
 */
final class Reachability {
    private Reachability() {
    }

    /**
     * Empty when some store at {@code addresses} answered within {@code timeout}; otherwise why
     * none did, naming each address and its failure (or that it had not answered yet).
     */
    static Optional<String> unreachable(KvClient client, List<InetSocketAddress> addresses, Duration timeout) {
        CountDownLatch answered = new CountDownLatch(1);
        Map<InetSocketAddress, String> failures = new ConcurrentHashMap<>();
        List<Thread> askers = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            askers.add(Thread.ofVirtual().name("ctl-reach-" + address).start(() -> {
                try {
                    client.status(address);
                    answered.countDown();
                } catch (RuntimeException e) {
                    failures.put(address, e.getMessage() == null ? e.toString() : e.getMessage());
                }
            }));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (System.nanoTime() < deadline && failures.size() < addresses.size()) {
                if (answered.await(20, TimeUnit.MILLISECONDS)) {
                    return Optional.empty();
                }
            }
            if (answered.getCount() == 0) {
                return Optional.empty();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while reaching the cluster");
        }
        askers.forEach(Thread::interrupt);
        List<String> reasons = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            reasons.add(MemberAddress.format(address) + ": " + failures.getOrDefault(address, "no answer within "
                    + timeout.toMillis() + " ms"));
        }
        return Optional.of("no store answered (" + String.join("; ", reasons) + "); is the cluster running?");
    }
}
