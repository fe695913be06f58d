package io.loomkv.bench.jmh;

import io.loomkv.compress.Lz4BlockCodec;
import io.loomkv.compress.ZstdSnapshotOutputStream;
import io.loomkv.compress.ZstdStreamCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * LZ4 block and Zstd stream codecs on 128 B, 4 KiB and 1 MiB payloads.
 *
 * <p>The payload is KV-like text from a seeded {@link Random}: records such as {@code
 * user:004217=name-qkzjwe;balance=73121|}, i.e. repeated field names with random keys, names and
 * numbers. That is semi-compressible, like real log entries and unlike all-zero or random bytes:
 * measured with this seed, 128 B / 4 KiB / 1 MiB compress to 111 / 2429 / 566244 bytes with LZ4
 * (header included) and to 109 / 1419 / 364597 bytes with Zstd level 3. Throughput in MB/s is ops/s times the payload
 * size (uncompressed bytes per second, for both directions).
 *
 * <p>LZ4 runs allocation-free into preallocated buffers with a threshold of 0 so that even the
 * 128 B payload is really compressed. Zstd creates a fresh stream (and native context) per
 * operation, as a snapshot writer or reader does; at 128 B that setup dominates, which is why
 * snapshots and not small messages use Zstd.
 *
 * <p>Run: {@code ./loomkv bench jmh CodecBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class CodecBenchmark {

    @Param({"128", "4096", "1048576"})
    public int payloadBytes;

    private final Lz4BlockCodec lz4 = new Lz4BlockCodec(0);
    private final ZstdStreamCodec zstd = ZstdStreamCodec.withDefaults();

    private byte[] payload;
    private byte[] lz4Compressed;
    private byte[] lz4Scratch;
    private byte[] decompressed;
    private byte[] zstdCompressed;
    private byte[] readBuffer;
    private ByteArrayOutputStream zstdSink;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        payload = kvRecords(payloadBytes, 20261123L);
        lz4Scratch = new byte[lz4.maxCompressedLength(payloadBytes)];
        lz4Compressed = lz4.compressOrNull(payload);
        if (lz4Compressed == null) {
            throw new IllegalStateException("LZ4 left the " + payloadBytes + " B payload raw");
        }
        decompressed = new byte[payloadBytes];
        zstdSink = new ByteArrayOutputStream(payloadBytes + 1024);
        zstdCompressed = compressWithZstd();
        readBuffer = new byte[64 * 1024];
        // Check the round trips once, so a broken codec cannot produce pretty numbers.
        if (!Arrays.equals(payload, lz4.decompress(lz4Compressed, payloadBytes))) {
            throw new IllegalStateException("LZ4 round trip failed");
        }
        try (InputStream in =
                zstd.decompressingStream(new ByteArrayInputStream(zstdCompressed), payloadBytes)) {
            if (!Arrays.equals(payload, in.readAllBytes())) {
                throw new IllegalStateException("Zstd round trip failed");
            }
        }
    }

    @Benchmark
    public int lz4Compress() {
        return lz4.compress(payload, 0, payloadBytes, lz4Scratch, 0);
    }

    @Benchmark
    public int lz4Decompress() {
        return lz4.decompress(lz4Compressed, 0, lz4Compressed.length, decompressed, 0, payloadBytes);
    }

    @Benchmark
    public int zstdCompress() throws IOException {
        return compressWithZstd().length;
    }

    @Benchmark
    public long zstdDecompress() throws IOException {
        long total = 0;
        try (InputStream in =
                zstd.decompressingStream(new ByteArrayInputStream(zstdCompressed), payloadBytes)) {
            int n;
            while ((n = in.read(readBuffer, 0, readBuffer.length)) >= 0) {
                total += n;
            }
        }
        return total;
    }

    private byte[] compressWithZstd() throws IOException {
        zstdSink.reset();
        try (ZstdSnapshotOutputStream out = zstd.compressingStream(zstdSink)) {
            out.write(payload, 0, payloadBytes);
        }
        return zstdSink.toByteArray();
    }

    /** KV-like records, see the class comment; deterministic for a given seed. */
    static byte[] kvRecords(int sizeBytes, long seed) {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder(sizeBytes + 64);
        while (text.length() < sizeBytes) {
            text.append("user:").append(String.format("%06d", random.nextInt(1_000_000)));
            text.append("=name-");
            for (int i = 0; i < 6; i++) {
                text.append((char) ('a' + random.nextInt(26)));
            }
            text.append(";balance=").append(random.nextInt(100_000)).append('|');
        }
        return Arrays.copyOf(text.toString().getBytes(StandardCharsets.US_ASCII), sizeBytes);
    }
}
