package io.loomkv.core.engine;

import java.util.List;

/**
 * One page of a scan.
 *
 * @param entries the keys found, in order
 * @param continuationKey where the next page starts (pass it to {@link ScanRequest#next}), or null
 *     when the range is exhausted
 */
public record ScanPage(List<KeyValue> entries, byte[] continuationKey) {
    public ScanPage {
        entries = List.copyOf(entries);
    }

    public boolean hasMore() {
        return continuationKey != null;
    }
}
