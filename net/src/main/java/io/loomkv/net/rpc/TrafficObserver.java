package io.loomkv.net.rpc;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.LongConsumer;

/**
 * Told how many bytes a server's connections read and wrote (frames, headers included), for the
 * node's byte counters. Called on connection threads for every read and write that moved bytes:
 * implementations must be cheap, thread-safe and never throw.
 */
public interface TrafficObserver {
    /** Observes nothing; the default, which leaves the sockets' streams unwrapped. */
    TrafficObserver NONE = new TrafficObserver() {
        @Override
        public void received(long bytes) {
        }

        @Override
        public void sent(long bytes) {
        }
    };

    void received(long bytes);

    void sent(long bytes);

    /** An observer that hands the byte counts to {@code received} and {@code sent}. */
    static TrafficObserver of(LongConsumer received, LongConsumer sent) {
        return new TrafficObserver() {
            @Override
            public void received(long bytes) {
                received.accept(bytes);
            }

            @Override
            public void sent(long bytes) {
                sent.accept(bytes);
            }
        };
    }

    /** {@code in}, reporting what is read from it (itself with {@link #NONE}). */
    static InputStream counting(InputStream in, TrafficObserver observer) {
        if (observer == NONE) {
            return in;
        }
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    observer.received(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = in.read(buffer, offset, length);
                if (n > 0) {
                    observer.received(n);
                }
                return n;
            }
        };
    }

    /** {@code out}, reporting what is written to it (itself with {@link #NONE}). */
    static OutputStream counting(OutputStream out, TrafficObserver observer) {
        if (observer == NONE) {
            return out;
        }
        return new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                observer.sent(1);
            }

            // FilterOutputStream's own version writes byte by byte.
            @Override
            public void write(byte[] buffer, int offset, int length) throws IOException {
                out.write(buffer, offset, length);
                observer.sent(length);
            }
        };
    }
}
