package io.loomkv.engine.btree;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/**
 * Byte arrays for MVStore keys and values: a length (variable-size int), then the bytes, ordered
 * by unsigned bytes as every loomkv engine is. (H2's own byte-array type orders by signed bytes,
 * which would put 0x80 before 0x7F.)
 */
final class UnsignedBytesType extends BasicDataType<byte[]> {
    static final UnsignedBytesType INSTANCE = new UnsignedBytesType();
    /** What MVStore charges per array in its memory accounting: the array header and a reference. */
    private static final int ARRAY_OVERHEAD_BYTES = 24;

    private UnsignedBytesType() {
    }

    @Override
    public int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    @Override
    public int getMemory(byte[] bytes) {
        return ARRAY_OVERHEAD_BYTES + bytes.length;
    }

    @Override
    public void write(WriteBuffer buffer, byte[] bytes) {
        buffer.putVarInt(bytes.length).put(bytes);
    }

    @Override
    public byte[] read(ByteBuffer buffer) {
        int length = DataUtils.readVarInt(buffer);
        if (length < 0 || length > buffer.remaining()) {
            throw new IllegalStateException("a stored byte array claims " + length + " bytes, " + buffer.remaining() + " remain in its page");
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }

    @Override
    public byte[][] createStorage(int size) {
        return new byte[size][];
    }
}
