package io.loomkv.tools;

import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.ReceivedStoreReport;
import io.loomkv.net.store.proto.StoreReport;
import io.loomkv.net.store.proto.StoreReportsReply;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code ctl config stores}: what each store last reported to the shard controller's leader: its
 * address, how long ago, the groups it hosts and those it leads, and the keys and data bytes of
 * all its replicas together (each replica of a group counts on its store); or one JSON object per
 * store.
 */
final class StoreReportListing {
    private static final String TEXT_FORMAT = "%-6s %-22s %-10s %-24s %-24s %12s %10s%n";

    private StoreReportListing() {
    }

    static void print(StoreReportsReply reply, boolean json, PrintStream out) {
        if (!json) {
            out.printf(TEXT_FORMAT, "STORE", "ADDRESS", "REPORTED", "GROUPS", "LEADING", "KEYS", "DATA");
        }
        for (ReceivedStoreReport received : reply.getStoresList()) {
            StoreReport report = received.getReport();
            List<Long> groups = report.getGroupsList().stream().map(GroupView::getGroupId).toList();
            List<Long> leading = report.getGroupsList().stream().filter(v -> "LEADER".equals(v.getRole()))
                    .map(GroupView::getGroupId).toList();
            long keys = report.getGroupsList().stream().mapToLong(GroupView::getKeys).sum();
            long dataBytes = report.getGroupsList().stream().mapToLong(GroupView::getDataBytes).sum();
            if (json) {
                out.println("{\"store\":" + report.getStoreId() + ",\"address\":" + Json.quote(report.getClientAddress())
                        + ",\"age_ms\":" + received.getAgeMillis() + ",\"groups\":" + Json.quote(CompactRanges.ids(groups))
                        + ",\"leading\":" + Json.quote(CompactRanges.ids(leading)) + ",\"keys\":" + keys
                        + ",\"data_bytes\":" + dataBytes + "}");
            } else {
                out.printf(TEXT_FORMAT, report.getStoreId(), report.getClientAddress(),
                        String.format("%.1f s ago", received.getAgeMillis() / 1000.0), CompactRanges.ids(groups),
                        CompactRanges.ids(leading), keys, megabytes(dataBytes));
            }
        }
    }

    /** Bytes in MB (10^6), one decimal: the unit the README and the benchmarks use. */
    static String megabytes(long bytes) {
        return String.format("%.1f MB", bytes / 1_000_000.0);
    }
}
