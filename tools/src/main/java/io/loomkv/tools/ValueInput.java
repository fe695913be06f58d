package io.loomkv.tools;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.net.node.NodeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A value {@code ctl put} reads from standard input or a file, for values too large or too
 * binary for a command line. Reading stops one byte past the limit, so a huge input is refused
 * without being held in memory.
 */
final class ValueInput {
    /** Thrown when the input is larger than the limit; nothing was sent. */
    static final class TooLargeException extends IOException {
        TooLargeException(String message) {
            super(message);
        }
    }

    /**
     * The largest max-value-bytes a store can be configured with (NodeConfigLoader's bound): the
     * limit when ctl knows only addresses, and each store then refuses what exceeds its own.
     */
    static final int LARGEST_CONFIGURABLE_VALUE_BYTES = 8 * 1024 * 1024;

    private ValueInput() {
    }

    /**
     * The largest value the cluster accepts: its configs' max-value-bytes when {@code cluster} is a
     * config folder (the smallest of them), else {@link #LARGEST_CONFIGURABLE_VALUE_BYTES}.
     */
    static int maxValueBytes(String cluster) {
        Path folder = Path.of(cluster);
        if (Files.isDirectory(folder)) {
            try {
                return ClusterTarget.fromFolder(folder).configs().stream().mapToInt(NodeConfig::maxValueBytes).min()
                        .orElse(KvLimits.DEFAULT_MAX_VALUE_BYTES);
            } catch (Exception unreadable) {
                // withClient reports the folder's problem; the default limit is as good as any until then.
                return KvLimits.DEFAULT_MAX_VALUE_BYTES;
            }
        }
        return LARGEST_CONFIGURABLE_VALUE_BYTES;
    }

    /** All of {@code in}, refused when it is longer than {@code limitBytes}. */
    static ByteString read(InputStream in, int limitBytes, String source) throws IOException {
        byte[] bytes = in.readNBytes(limitBytes + 1);
        if (bytes.length > limitBytes) {
            throw new TooLargeException("the value from " + source + " is larger than the cluster's max-value-bytes ("
                    + limitBytes + " bytes); nothing was written");
        }
        return ByteString.copyFrom(bytes);
    }
}
