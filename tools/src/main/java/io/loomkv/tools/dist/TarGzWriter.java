package io.loomkv.tools.dist;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a gzip-compressed POSIX ustar archive: regular files and directories with explicit
 * modes, owned by root (uid/gid 0) and dated {@code modifiedEpochSeconds}, so the same inputs
 * give the same archive. A small writer of our own because the tools module has no archive
 * library, and a release tarball needs nothing beyond ustar (names under 100 bytes here; longer
 * ones use the ustar prefix field, up to 255 bytes, and anything longer is refused).
 */
public final class TarGzWriter implements Closeable {
    private static final int BLOCK_BYTES = 512;
    private static final int NAME_BYTES = 100;
    private static final int PREFIX_BYTES = 155;
    /** The largest file ustar's 11 octal digits of size can describe. */
    private static final long MAX_FILE_BYTES = 077777777777L;

    private final OutputStream out;
    private final long modifiedEpochSeconds;
    private final Set<String> written = new HashSet<>();

    public TarGzWriter(Path file, long modifiedEpochSeconds) throws IOException {
        this.out = new GZIPOutputStream(Files.newOutputStream(file), 64 * 1024);
        this.modifiedEpochSeconds = modifiedEpochSeconds;
    }

    /** A directory entry ({@code name} without a trailing slash). */
    public void directory(String name, int mode) throws IOException {
        header(name + "/", mode, 0, '5');
    }

    /** A regular file with {@code source}'s content. */
    public void file(String name, int mode, Path source) throws IOException {
        long size = Files.size(source);
        header(name, mode, size, '0');
        long copied;
        try (InputStream in = Files.newInputStream(source)) {
            copied = in.transferTo(out);
        }
        if (copied != size) {
            throw new IOException(source + " changed while it was archived (" + size + " bytes, then " + copied + ")");
        }
        pad(size);
    }

    /** A regular file with the given content. */
    public void file(String name, int mode, byte[] content) throws IOException {
        header(name, mode, content.length, '0');
        out.write(content);
        pad(content.length);
    }

    private void header(String name, int mode, long size, char type) throws IOException {
        if (!written.add(name)) {
            throw new IllegalArgumentException("'" + name + "' is already in the archive");
        }
        if (size < 0 || size > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("'" + name + "' is " + size + " bytes, more than ustar allows");
        }
        byte[] header = new byte[BLOCK_BYTES];
        splitName(name, header);
        octal(header, 100, 8, mode);
        octal(header, 108, 8, 0);
        octal(header, 116, 8, 0);
        octal(header, 124, 12, size);
        octal(header, 136, 12, modifiedEpochSeconds);
        header[156] = (byte) type;
        put(header, 257, "ustar\0");
        put(header, 263, "00");
        put(header, 265, "root");
        put(header, 297, "root");
        // The checksum is computed with its own field as spaces.
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        octal(header, 148, 7, sum);
        out.write(header);
    }

    /** Puts {@code name} in the name field, or splits it at a slash between the prefix and name fields. */
    private static void splitName(String name, byte[] header) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= NAME_BYTES) {
            System.arraycopy(bytes, 0, header, 0, bytes.length);
            return;
        }
        for (int slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
            byte[] prefix = name.substring(0, slash).getBytes(StandardCharsets.UTF_8);
            byte[] rest = name.substring(slash + 1).getBytes(StandardCharsets.UTF_8);
            if (prefix.length <= PREFIX_BYTES && rest.length <= NAME_BYTES && rest.length > 0) {
                System.arraycopy(rest, 0, header, 0, rest.length);
                System.arraycopy(prefix, 0, header, 345, prefix.length);
                return;
            }
        }
        throw new IllegalArgumentException("'" + name + "' is too long for a ustar archive");
    }

    /** {@code value} in octal, zero-padded to {@code width - 1} digits and NUL-terminated. */
    private static void octal(byte[] header, int offset, int width, long value) {
        String digits = Long.toOctalString(value);
        if (digits.length() > width - 1) {
            throw new IllegalArgumentException(value + " does not fit in " + (width - 1) + " octal digits");
        }
        put(header, offset, "0".repeat(width - 1 - digits.length()) + digits);
        header[offset + width - 1] = 0;
    }

    private static void put(byte[] header, int offset, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    private void pad(long size) throws IOException {
        int remainder = (int) (size % BLOCK_BYTES);
        if (remainder != 0) {
            out.write(new byte[BLOCK_BYTES - remainder]);
        }
    }

    /** Ends the archive with its two zero blocks and finishes the gzip stream. */
    @Override
    public void close() throws IOException {
        try (out) {
            out.write(new byte[2 * BLOCK_BYTES]);
        }
    }
}
