package io.loomkv.net.proxy;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The slot-aware clients a proxy forwards through. Each keeps its own layout cache and one
 * session per group; a store caps a session's writes in flight, so one client would cap the
 * proxy's writes to a group at that. A caller session always writes through the same client
 * (spread by its id); reads take the clients in turn. SERIALIZABLE reads go to followers first.
 */
final class UpstreamClients implements AutoCloseable {
    private final List<KvClient> clients;
    private final AtomicInteger nextRead = new AtomicInteger();

    UpstreamClients(KvClientConfig config, int count) {
        KvClientConfig upstream = config.withSerializableReadsOnFollowers(true);
        List<KvClient> created = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            created.add(new KvClient(upstream));
        }
        this.clients = List.copyOf(created);
    }

    /** The client that carries the writes of caller session {@code clientId}. */
    KvClient forSession(long clientId) {
        return clients.get(Math.floorMod(Long.hashCode(clientId * 0x9E3779B97F4A7C15L), clients.size()));
    }

    /** A client for a read, in turn. */
    KvClient forRead() {
        return clients.get(Math.floorMod(nextRead.getAndIncrement(), clients.size()));
    }

    @Override
    public void close() {
        clients.forEach(KvClient::close);
    }
}
