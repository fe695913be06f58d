package io.loomkv.bench.jmh;

import com.google.protobuf.ByteString;
import io.loomkv.net.frame.FrameBodyDecoder;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameHeader;
import io.loomkv.net.frame.FrameReader;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.EchoRequest;
import java.io.IOException;
import java.io.InputStream;
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
 * Frame encode (header + protobuf body written straight into the send buffer, as the connection
 * writer does) and decode (header validation + protobuf parse through {@link FrameReader}, as the
 * connection reader does) for 128 B, 4 KiB and 1 MiB bodies.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameBenchmark {
    @Param({"128", "4096", "1048576"})
    public int bodySizeBytes;

    private EchoRequest request;
    private byte[] sendBuffer;
    private byte[] encodedFrame;
    private FrameReader reader;

    /** Serves the same encoded frame over and over, as if the peer kept sending it. */
    private static final class RepeatingStream extends InputStream {
        private final byte[] frame;
        private int position;

        RepeatingStream(byte[] frame) {
            this.frame = frame;
        }

        @Override
        public int read() {
            int b = frame[position] & 0xFF;
            position = (position + 1) % frame.length;
            return b;
        }

        @Override
        public int read(byte[] into, int offset, int length) {
            int n = Math.min(length, frame.length - position);
            System.arraycopy(frame, position, into, offset, n);
            position = (position + n) % frame.length;
            return n;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        byte[] payload = new byte[bodySizeBytes];
        new Random(7).nextBytes(payload);
        request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
        sendBuffer = new byte[FrameCodec.frameSizeBytes(request)];
        encodedFrame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, 1, request);
        reader = new FrameReader(new RepeatingStream(encodedFrame), FrameReader.noTimeouts(), 16 * 1024 * 1024, 0,
                10_000, FrameBodyDecoder.REJECT);
    }

    @Benchmark
    public int encode() {
        return FrameCodec.encode(sendBuffer, 0, FrameType.REQUEST, 0, 42, 0x10001, request);
    }

    @Benchmark
    public EchoRequest decode() throws IOException {
        FrameHeader header = reader.next();
        if (header.bodyLengthBytes() != encodedFrame.length - FrameCodec.HEADER_SIZE_BYTES) {
            throw new IllegalStateException("decoded body length " + header.bodyLengthBytes());
        }
        return EchoRequest.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
    }
}
