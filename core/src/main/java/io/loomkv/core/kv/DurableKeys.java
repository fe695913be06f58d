package io.loomkv.core.kv;

import java.nio.ByteBuffer;

/**
 * Where a state machine on a persistent engine keeps its sessions and per-group values: engine
 * keys that start with {@code 0xFF}. Data keys start with their slot's two bytes ({@link SlotKeys}),
 * and a slot is below 2^14, so a data key's first byte is at most {@code 0x3F}: the two key spaces
 * never meet, every metadata key sorts after every data key, and a scan of a slot's range never
 * sees one. Snapshots leave them out ({@link #isMetadata}); a restore writes them anew.
 */
final class DurableKeys {
    static final byte METADATA_PREFIX = (byte) 0xFF;
    /** The group's log clock and next client id ({@code DurableGroupState}). */
    static final byte[] GROUP_STATE = {METADATA_PREFIX, 'g'};
    /**
     * A data group's slot ownership and session floors ({@code MigrationState}): a key of its own,
     * written only with the entries that change it (it lists every moving slot during a move).
     */
    static final byte[] MIGRATION = {METADATA_PREFIX, 'm'};
    /** Sessions: this, then the client id as 8 big-endian bytes ({@code DurableSession}). */
    static final byte[] SESSIONS_START = {METADATA_PREFIX, 's'};
    static final byte[] SESSIONS_END = {METADATA_PREFIX, 's' + 1};

    private DurableKeys() {}

    static byte[] session(long clientId) {
        return ByteBuffer.allocate(SESSIONS_START.length + Long.BYTES).put(SESSIONS_START).putLong(clientId).array();
    }

    /** A key of this class's space, not a data key. */
    static boolean isMetadata(byte[] engineKey) {
        return engineKey.length > 0 && engineKey[0] == METADATA_PREFIX;
    }
}
