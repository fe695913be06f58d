package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;

/**
 * A client command as it travels in an entry: a proposal id, unique for the whole run (so the
 * simulator can tell that each proposal is applied at most once), and the client's value (6.824's
 * {@code cmd}, which a client may propose again under a new proposal id), plus optional padding
 * for tests that need large entries.
 */
public record SimCommand(long proposalId, long value, int paddingBytes) {

    static final int HEADER_BYTES = 2 * Long.BYTES;

    public SimCommand {
        if (proposalId <= 0) {
            throw new IllegalArgumentException("proposalId must be > 0, got " + proposalId);
        }
        if (paddingBytes < 0) {
            throw new IllegalArgumentException("paddingBytes must be >= 0, got " + paddingBytes);
        }
    }

    public ByteString encode() {
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + paddingBytes);
        buffer.putLong(proposalId).putLong(value);
        for (int i = 0; i < paddingBytes; i++) {
            // Deterministic but not all-zero, so that nothing can compress it away.
            buffer.put((byte) (proposalId * 31 + i));
        }
        return ByteString.copyFrom(buffer.flip());
    }

    /** Decodes a command; throws if {@code data} is not one (the simulator only proposes commands). */
    public static SimCommand decode(ByteString data) {
        if (data.size() < HEADER_BYTES) {
            throw new IllegalStateException("entry data of " + data.size() + " bytes is not a SimCommand");
        }
        ByteBuffer buffer = data.asReadOnlyByteBuffer();
        return new SimCommand(buffer.getLong(), buffer.getLong(), data.size() - HEADER_BYTES);
    }
}
