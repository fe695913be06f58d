package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a store's slot layout comes from. In this version the layout is static: the initial
 * members compute it from {@code data-groups} (slots split evenly, every group on
 * {@code replicas-per-group} stores) when they are first started, and keep it in their data
 * directory; a store that joins a running cluster asks its members for theirs. A later start with
 * another {@code data-groups} is refused, naming both.
 */
final class StoreLayouts {
    private static final Logger LOG = LoggerFactory.getLogger(StoreLayouts.class);
    static final long FIRST_VERSION = 1;
    private static final Duration JOIN_FETCH_TIMEOUT = Duration.ofSeconds(30);

    private StoreLayouts() {
    }

    static SlotLayout loadOrCreate(NodeConfig config) throws IOException {
        Optional<SlotLayout> stored = LayoutFile.read(config.dataDirectory());
        if (stored.isPresent()) {
            SlotLayout layout = stored.get();
            if (!config.join() && layout.groups().size() != config.dataGroups()) {
                throw new IOException("data directory " + config.dataDirectory() + " holds a layout of "
                        + layout.groups().size() + " data groups but the configuration says data-groups="
                        + config.dataGroups() + "; the number of groups of an existing cluster cannot be changed this way");
            }
            return layout;
        }
        SlotLayout layout = config.join() ? SlotLayout.fromProto(fetchFromMembers(config).getLayout()) : initial(config);
        LayoutFile.write(config.dataDirectory(), layout);
        LOG.info("store {}: layout {} with {} data groups written to {}", config.nodeId(), layout.version(),
                layout.groups().size(), config.dataDirectory().resolve(LayoutFile.FILE_NAME));
        return layout;
    }

    /**
     * The layout every initial member computes alike from the same configuration, with the stores
     * the shard controller is created on ({@link ControllerStores#initial}).
     */
    static SlotLayout initial(NodeConfig config) {
        List<Long> stores = config.members().stream().map(MemberAddress::id).sorted().toList();
        return SlotLayout.evenSplit(FIRST_VERSION, config.dataGroups(), stores, config.effectiveReplicasPerGroup())
                .withController(ControllerStores.initial(stores), 0);
    }

    /**
     * The stores hosting the shard controller ({@link ControllerStores}): kept in the data
     * directory; computed from {@code members} by an initial member (a data directory from before
     * the controller existed gets it the same way), asked of the members by a joining store.
     */
    static List<Long> controllerStores(NodeConfig config) throws IOException {
        Optional<List<Long>> stored = ControllerStores.read(config.dataDirectory());
        if (stored.isPresent()) {
            return stored.get();
        }
        List<Long> stores = config.join() ? fetchFromMembers(config).getControllerStoreIdsList()
                : ControllerStores.initial(config.members().stream().map(MemberAddress::id).toList());
        if (stores.isEmpty()) {
            throw new IOException("joining store " + config.nodeId() + ": the members named no shard controller stores");
        }
        ControllerStores.write(config.dataDirectory(), stores);
        return List.copyOf(stores);
    }

    private static LayoutReply fetchFromMembers(NodeConfig config) throws IOException {
        long deadline = System.nanoTime() + JOIN_FETCH_TIMEOUT.toNanos();
        String last = "no member configured";
        try (RpcClient client = new RpcClient(RpcClientConfig.client(config.clusterId()).withTls(config.tls().clientCallContext()))) {
            while (System.nanoTime() < deadline) {
                for (MemberAddress member : config.members()) {
                    if (member.id() == config.nodeId()) {
                        continue;
                    }
                    try {
                        LayoutReply reply = client.call(member.clientAddress(), NodeMethods.LAYOUT,
                                LayoutRequest.getDefaultInstance(), Duration.ofSeconds(2)).get(3, TimeUnit.SECONDS);
                        SlotLayout.fromProto(reply.getLayout()); // refuses a bad layout here, naming it
                        return reply;
                    } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
                        last = member.id() + ": " + e;
                    }
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking the members for the layout", e);
        }
        throw new IOException("joining store " + config.nodeId() + " could not get the layout from any member within "
                + JOIN_FETCH_TIMEOUT.toSeconds() + " s; last: " + last);
    }
}
