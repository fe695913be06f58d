package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.util.Arrays;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The methods a server serves, fixed before it starts. Built once with {@link #builder()}; lookups
 * by wire id are a binary search over a sorted array (no boxing on the request path).
 */
public final class RpcHandlers {
    /** One registered method, request/response ({@code requestHandler != null}) or one-way. */
    record Entry(int methodId, String name, MethodAccess access, Parser<? extends MessageLite> requestParser,
            RequestHandler<MessageLite, MessageLite> requestHandler, OneWayHandler<MessageLite> oneWayHandler) {
        boolean isOneWay() {
            return oneWayHandler != null;
        }
    }

    private final int[] methodIds;
    private final Entry[] entries;
    private final Consumer<CallContext> handshakeListener;

    private RpcHandlers(TreeMap<Integer, Entry> byId, Consumer<CallContext> handshakeListener) {
        methodIds = byId.keySet().stream().mapToInt(Integer::intValue).toArray();
        entries = byId.values().toArray(Entry[]::new);
        this.handshakeListener = handshakeListener;
    }

    /** Told of every accepted handshake, on the connection's reader thread; must not block. */
    Consumer<CallContext> handshakeListener() {
        return handshakeListener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The entry for a wire method id, or {@code null} when no such method is registered. */
    Entry lookup(int methodId) {
        int index = Arrays.binarySearch(methodIds, methodId);
        return index >= 0 ? entries[index] : null;
    }

    public int size() {
        return entries.length;
    }

    /** Collects handlers; each method id may be registered once. */
    public static final class Builder {
        private final TreeMap<Integer, Entry> byId = new TreeMap<>();
        private Consumer<CallContext> handshakeListener = context -> { };

        private Builder() {
        }

        /**
         * Runs {@code listener} for every connection whose handshake was accepted (a store uses it
         * to learn at once that a peer is back: see the store's transport). It runs on the
         * connection's reader and must not block; an exception is logged and ignored.
         */
        public Builder onHandshake(Consumer<CallContext> listener) {
            if (listener == null) {
                throw new IllegalArgumentException("null handshake listener");
            }
            handshakeListener = listener;
            return this;
        }

        @SuppressWarnings("unchecked")
        public <Req extends MessageLite, Resp extends MessageLite> Builder add(RpcMethod<Req, Resp> method,
                RequestHandler<Req, Resp> handler) {
            if (handler == null) {
                throw new IllegalArgumentException("null handler for " + method.name());
            }
            return put(new Entry(method.id(), method.name(), method.access(), method.requestParser(),
                    (RequestHandler<MessageLite, MessageLite>) (RequestHandler<?, ?>) handler, null));
        }

        @SuppressWarnings("unchecked")
        public <Req extends MessageLite> Builder addOneWay(OneWayMethod<Req> method, OneWayHandler<Req> handler) {
            if (handler == null) {
                throw new IllegalArgumentException("null handler for " + method.name());
            }
            return put(new Entry(method.id(), method.name(), method.access(), method.requestParser(), null,
                    (OneWayHandler<MessageLite>) (OneWayHandler<?>) handler));
        }

        private Builder put(Entry entry) {
            Entry previous = byId.putIfAbsent(entry.methodId(), entry);
            if (previous != null) {
                throw new IllegalArgumentException("method id " + MethodIds.describe(entry.methodId())
                        + " registered twice: " + previous.name() + " and " + entry.name());
            }
            return this;
        }

        public RpcHandlers build() {
            return new RpcHandlers(byId, handshakeListener);
        }
    }
}
