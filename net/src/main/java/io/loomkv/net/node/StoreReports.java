package io.loomkv.net.node;

import io.loomkv.net.store.proto.ReceivedStoreReport;
import io.loomkv.net.store.proto.StoreReport;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the stores last reported to this store while it leads the shard controller (group 0):
 * one report per store, replaced by the next. Soft state, not replicated: a new controller
 * leader starts empty and has every live store's report within one period, and the age of each
 * report shows how fresh it is. Bounded: reports only from stores that are members, one each.
 */
final class StoreReports {
    /** How often a store reports. */
    static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(2);

    private record Received(StoreReport report, long receivedNanos) {
    }

    private final ConcurrentHashMap<Long, Received> latest = new ConcurrentHashMap<>();
    private final Membership members;

    StoreReports(Membership members) {
        this.members = members;
    }

    /** Keeps {@code report} when its sender is a member and it describes the sender itself. */
    boolean record(StoreReport report, long senderId, long nowNanos) {
        if (report.getStoreId() != senderId || members.get(senderId) == null) {
            return false;
        }
        latest.put(senderId, new Received(report, nowNanos));
        return true;
    }

    /** The reports, by store id, each with its age; a store no longer a member (forgotten by the controller) is left out. */
    List<ReceivedStoreReport> view(long nowNanos) {
        latest.keySet().removeIf(store -> members.get(store) == null);
        return latest.values().stream()
                .sorted(Comparator.comparingLong(r -> r.report().getStoreId()))
                .map(r -> ReceivedStoreReport.newBuilder().setReport(r.report())
                        .setAgeMillis(TimeUnit.NANOSECONDS.toMillis(Math.max(0, nowNanos - r.receivedNanos()))).build())
                .toList();
    }
}
