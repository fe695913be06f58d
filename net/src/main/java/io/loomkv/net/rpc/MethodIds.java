package io.loomkv.net.rpc;

/**
 * The 32-bit method id on the wire: {@code (serviceId << 16) | methodIndex}. Service 0 belongs to
 * the transport itself (echo); method index 0 is never used, so a method id is never 0.
 */
public final class MethodIds {
    public static final int MAX_SERVICE_ID = 0xFFFF;
    public static final int MAX_METHOD_INDEX = 0xFFFF;

    private MethodIds() {
    }

    public static int of(int serviceId, int methodIndex) {
        if (serviceId < 0 || serviceId > MAX_SERVICE_ID) {
            throw new IllegalArgumentException("serviceId " + serviceId + " not in [0, " + MAX_SERVICE_ID + "]");
        }
        if (methodIndex < 1 || methodIndex > MAX_METHOD_INDEX) {
            throw new IllegalArgumentException("methodIndex " + methodIndex + " not in [1, " + MAX_METHOD_INDEX + "]");
        }
        return (serviceId << 16) | methodIndex;
    }

    public static String describe(int methodId) {
        return (methodId >>> 16) + "/" + (methodId & 0xFFFF);
    }
}
