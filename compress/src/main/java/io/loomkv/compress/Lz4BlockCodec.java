package io.loomkv.compress;

import java.util.Objects;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * LZ4 block codec for log entries and frame bodies: compresses only when it pays, and decodes
 * untrusted input within a caller-given size limit.
 *
 * <h2>Compressed block layout</h2>
 *
 * <pre>
 *   offset 0  int32 big-endian  original (decompressed) length, &gt;= 0
 *   offset 4  int32 big-endian  XXH32 of the original bytes (seed {@value #CHECKSUM_SEED})
 *   offset 8  ...               one raw LZ4 block (no LZ4 frame header)
 * </pre>
 *
 * <p>The length comes first so that a decoder can check it against its limit before allocating
 * anything. The checksum is there because LZ4 itself detects only structural damage: a flipped
 * bit inside a literal still decodes "successfully" to wrong bytes. With the checksum every
 * corruption is reported as {@link CorruptDataException} instead of returning wrong data.
 *
 * <h2>Raw fallback</h2>
 *
 * <p>Inputs shorter than {@link #minCompressBytes()}, and inputs whose compressed block (header
 * included) would not be strictly smaller than the input, are not compressed: {@link
 * #compress(byte[], int, int, byte[], int)} returns {@link #RAW} and {@link #compressOrNull}
 * returns {@code null}. The caller then sends or stores the original bytes and clears its
 * "compressed" flag bit; only bytes produced while the flag is set are passed to {@code
 * decompress}. The codec never guesses from the bytes whether they are compressed.
 *
 * <h2>Implementation choice</h2>
 *
 * <p>Uses {@code at.yawk.lz4:lz4-java} (the maintained fork with the 2025 CVE fixes) through
 * {@link LZ4Factory#fastestInstance()} (JNI when the native library loads, else the fastest pure
 * Java one), the fast (not HC) compressor, and only the <em>safe</em> decompressor, which bounds
 * every read and write by the given lengths. The convenience overloads that trust a length
 * prefix and allocate it are not used: this class checks the declared length itself.
 *
 * <p>Instances are immutable and thread-safe (the underlying LZ4 and XXHash instances are
 * stateless); share one per configuration.
 */
public final class Lz4BlockCodec {

    /** Returned by {@link #compress(byte[], int, int, byte[], int)} when the data stays raw. */
    public static final int RAW = -1;

    /** Bytes of header before the LZ4 block: original length, then checksum. */
    public static final int HEADER_BYTES = 8;

    /** Default {@link #minCompressBytes()}: below this LZ4 rarely wins over its own overhead. */
    public static final int DEFAULT_MIN_COMPRESS_BYTES = 256;

    /** Seed for the XXH32 checksum of the original bytes; part of the format, never change it. */
    public static final int CHECKSUM_SEED = 0x4c4b5631; // "LKV1"

    /**
     * An LZ4 block cannot expand more than about 255:1 (a match-length continuation byte adds at
     * most 255 output bytes), so a declared length above this bound for the given payload size is
     * a lie; rejecting it early avoids allocating for a tiny, hostile input under a generous limit.
     */
    private static final long MAX_EXPANSION_PER_INPUT_BYTE = 255;

    private static final long EXPANSION_SLACK_BYTES = 64;

    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();
    private static final XXHash32 XXHASH = XXHashFactory.fastestInstance().hash32();

    private final int minCompressBytes;
    private final LZ4Compressor compressor = LZ4.fastCompressor();
    private final LZ4SafeDecompressor decompressor = LZ4.safeDecompressor();

    /**
     * @param minCompressBytes inputs shorter than this stay raw; {@code 0} tries every input
     *     (still raw when compression does not shrink it)
     */
    public Lz4BlockCodec(int minCompressBytes) {
        if (minCompressBytes < 0) {
            throw new IllegalArgumentException("minCompressBytes must be >= 0, got " + minCompressBytes);
        }
        this.minCompressBytes = minCompressBytes;
    }

    /** A codec with {@link #DEFAULT_MIN_COMPRESS_BYTES}. */
    public static Lz4BlockCodec withDefaults() {
        return new Lz4BlockCodec(DEFAULT_MIN_COMPRESS_BYTES);
    }

    public int minCompressBytes() {
        return minCompressBytes;
    }

    /** The destination size that {@link #compress(byte[], int, int, byte[], int)} may need. */
    public int maxCompressedLength(int srcLengthBytes) {
        if (srcLengthBytes < 0) {
            throw new IllegalArgumentException("srcLengthBytes must be >= 0, got " + srcLengthBytes);
        }
        return HEADER_BYTES + compressor.maxCompressedLength(srcLengthBytes);
    }

    /**
     * Compresses {@code src[srcOffset, srcOffset + srcLength)} into {@code dest} at {@code
     * destOffset}, allocation-free.
     *
     * @param dest must have at least {@link #maxCompressedLength(int)} bytes from {@code destOffset}
     *     (checked up front; contents past the returned length are unspecified)
     * @return the number of bytes written (header included), or {@link #RAW} when the data should
     *     stay raw (shorter than the threshold, or compression would not make it smaller); after
     *     {@code RAW} the contents of {@code dest} are unspecified
     */
    public int compress(byte[] src, int srcOffset, int srcLength, byte[] dest, int destOffset) {
        Objects.checkFromIndexSize(srcOffset, srcLength, src.length);
        int needed = maxCompressedLength(srcLength);
        Objects.checkFromIndexSize(destOffset, needed, dest.length);
        if (srcLength < minCompressBytes || srcLength <= HEADER_BYTES) {
            return RAW;
        }
        int blockLength;
        try {
            blockLength =
                    compressor.compress(
                            src, srcOffset, srcLength, dest, destOffset + HEADER_BYTES, needed - HEADER_BYTES);
        } catch (LZ4Exception e) {
            // Cannot happen with a destination of maxCompressedLength; a failure here is a library bug.
            throw new IllegalStateException(
                    "LZ4 compression of " + srcLength + " bytes into " + needed + " failed", e);
        }
        int total = HEADER_BYTES + blockLength;
        if (total >= srcLength) {
            return RAW;
        }
        writeInt(dest, destOffset, srcLength);
        writeInt(dest, destOffset + 4, XXHASH.hash(src, srcOffset, srcLength, CHECKSUM_SEED));
        return total;
    }

    /**
     * Compresses into a new array of exactly the compressed size.
     *
     * @return the compressed block, or {@code null} meaning "keep the data raw" (see class doc)
     */
    public byte[] compressOrNull(byte[] src, int srcOffset, int srcLength) {
        Objects.checkFromIndexSize(srcOffset, srcLength, src.length);
        if (srcLength < minCompressBytes || srcLength <= HEADER_BYTES) {
            return null;
        }
        byte[] buffer = new byte[maxCompressedLength(srcLength)];
        int written = compress(src, srcOffset, srcLength, buffer, 0);
        if (written == RAW) {
            return null;
        }
        return java.util.Arrays.copyOf(buffer, written);
    }

    /** {@link #compressOrNull(byte[], int, int)} over the whole array. */
    public byte[] compressOrNull(byte[] src) {
        return compressOrNull(src, 0, src.length);
    }

    /**
     * Reads and validates the declared decompressed length of a compressed block, without
     * decompressing: use it to size a buffer for {@link #decompress(byte[], int, int, byte[], int,
     * int)}.
     *
     * @throws DecompressedSizeLimitException if the declared length exceeds {@code
     *     maxDecompressedBytes}
     * @throws CorruptDataException if the header is truncated, negative, or impossible for the
     *     block's size
     */
    public static int decompressedLength(
            byte[] src, int srcOffset, int srcLength, int maxDecompressedBytes) {
        Objects.checkFromIndexSize(srcOffset, srcLength, src.length);
        if (maxDecompressedBytes < 0) {
            throw new IllegalArgumentException(
                    "maxDecompressedBytes must be >= 0, got " + maxDecompressedBytes);
        }
        if (srcLength < HEADER_BYTES) {
            throw new CorruptDataException(
                    "LZ4 block truncated: "
                            + srcLength
                            + " bytes, the header alone needs "
                            + HEADER_BYTES);
        }
        int declared = readInt(src, srcOffset);
        if (declared < 0) {
            throw new CorruptDataException(
                    "LZ4 block declares a negative decompressed length " + declared);
        }
        if (declared > maxDecompressedBytes) {
            throw new DecompressedSizeLimitException(
                    "LZ4 block declares "
                            + declared
                            + " decompressed bytes, above the limit of "
                            + maxDecompressedBytes,
                    maxDecompressedBytes);
        }
        long payloadBytes = srcLength - HEADER_BYTES;
        long possibleBytes = payloadBytes * MAX_EXPANSION_PER_INPUT_BYTE + EXPANSION_SLACK_BYTES;
        if (declared > possibleBytes) {
            throw new CorruptDataException(
                    "LZ4 block declares "
                            + declared
                            + " decompressed bytes, impossible from a "
                            + payloadBytes
                            + "-byte payload (truncated or garbage header)");
        }
        return declared;
    }

    /**
     * Decompresses a block produced by this codec into a new array of exactly the declared length.
     * The declared length is checked against {@code maxDecompressedBytes} before allocating.
     *
     * @throws DecompressedSizeLimitException if the block declares more than the limit
     * @throws CorruptDataException if the block is truncated, corrupt or fails its checksum
     */
    public byte[] decompress(byte[] src, int srcOffset, int srcLength, int maxDecompressedBytes) {
        int declared = decompressedLength(src, srcOffset, srcLength, maxDecompressedBytes);
        byte[] out = new byte[declared];
        decodeChecked(src, srcOffset, srcLength, out, 0, declared);
        return out;
    }

    /** {@link #decompress(byte[], int, int, int)} over the whole array. */
    public byte[] decompress(byte[] src, int maxDecompressedBytes) {
        return decompress(src, 0, src.length, maxDecompressedBytes);
    }

    /**
     * Decompresses into a caller buffer, allocation-free.
     *
     * @param dest receives the decompressed bytes at {@code destOffset}; it must have room for the
     *     declared length (see {@link #decompressedLength}), else {@link IndexOutOfBoundsException}
     * @return the number of decompressed bytes written
     * @throws DecompressedSizeLimitException if the block declares more than the limit
     * @throws CorruptDataException if the block is truncated, corrupt or fails its checksum; the
     *     contents of {@code dest} in the declared range are then unspecified
     */
    public int decompress(
            byte[] src,
            int srcOffset,
            int srcLength,
            byte[] dest,
            int destOffset,
            int maxDecompressedBytes) {
        int declared = decompressedLength(src, srcOffset, srcLength, maxDecompressedBytes);
        Objects.checkFromIndexSize(destOffset, declared, dest.length);
        decodeChecked(src, srcOffset, srcLength, dest, destOffset, declared);
        return declared;
    }

    private void decodeChecked(
            byte[] src, int srcOffset, int srcLength, byte[] dest, int destOffset, int declared) {
        int produced;
        try {
            produced =
                    decompressor.decompress(
                            src, srcOffset + HEADER_BYTES, srcLength - HEADER_BYTES, dest, destOffset, declared);
        } catch (LZ4Exception e) {
            throw new CorruptDataException(
                    "LZ4 block of "
                            + srcLength
                            + " bytes (declaring "
                            + declared
                            + " decompressed) is corrupt or truncated: "
                            + e.getMessage(),
                    e);
        }
        if (produced != declared) {
            throw new CorruptDataException(
                    "LZ4 block decoded to " + produced + " bytes but declares " + declared);
        }
        int expected = readInt(src, srcOffset + 4);
        int actual = XXHASH.hash(dest, destOffset, declared, CHECKSUM_SEED);
        if (actual != expected) {
            throw new CorruptDataException(
                    "LZ4 block checksum mismatch: header says 0x"
                            + Integer.toHexString(expected)
                            + ", decoded "
                            + declared
                            + " bytes hash to 0x"
                            + Integer.toHexString(actual));
        }
    }

    private static void writeInt(byte[] dest, int offset, int value) {
        dest[offset] = (byte) (value >>> 24);
        dest[offset + 1] = (byte) (value >>> 16);
        dest[offset + 2] = (byte) (value >>> 8);
        dest[offset + 3] = (byte) value;
    }

    private static int readInt(byte[] src, int offset) {
        return ((src[offset] & 0xff) << 24)
                | ((src[offset + 1] & 0xff) << 16)
                | ((src[offset + 2] & 0xff) << 8)
                | (src[offset + 3] & 0xff);
    }

    @Override
    public String toString() {
        return "Lz4BlockCodec{minCompressBytes=" + minCompressBytes + ", lz4=" + LZ4 + "}";
    }
}
