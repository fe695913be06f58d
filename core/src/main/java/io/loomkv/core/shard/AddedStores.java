package io.loomkv.core.shard;

import io.loomkv.core.shard.proto.StoreEndpoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The stores added to a running cluster (controller {@code AddStore}) with their addresses, as a
 * configuration lists them: ascending by id, each id once, addresses of the form {@code host:port}.
 * The stores a cluster was created with are not here: every store has them in its config. A
 * configuration carries the list on unchanged, so whichever configuration a store learns, it
 * learns every added store's addresses (and can then reach a group's replica placed there).
 * Immutable and validated on construction, from the wire included.
 */
public final class AddedStores {
    /** Stores one configuration may list: bounds a layout from the wire. */
    public static final int MAX_STORES = 1024;
    /** Longest address accepted ({@code host:port}; a DNS name is at most 253 characters). */
    public static final int MAX_ADDRESS_CHARS = 261;

    public static final AddedStores NONE = new AddedStores(List.of());

    private final List<StoreEndpoint> stores;

    private AddedStores(List<StoreEndpoint> stores) {
        this.stores = stores;
    }

    /** The list read from a layout message, checked. */
    public static AddedStores fromProto(List<StoreEndpoint> stores) {
        if (stores.isEmpty()) {
            return NONE;
        }
        if (stores.size() > MAX_STORES) {
            throw new IllegalArgumentException("a configuration lists at most " + MAX_STORES + " added stores, this one "
                    + stores.size());
        }
        TreeMap<Long, StoreEndpoint> byId = new TreeMap<>();
        for (StoreEndpoint store : stores) {
            check(store);
            if (byId.put(store.getStoreId(), store) != null) {
                throw new IllegalArgumentException("added store " + store.getStoreId() + " is listed twice");
            }
        }
        return new AddedStores(List.copyOf(byId.values()));
    }

    /** This list with {@code store} added (refused when its id is listed already). */
    public AddedStores with(StoreEndpoint store) {
        check(store);
        Optional<StoreEndpoint> listed = get(store.getStoreId());
        if (listed.isPresent()) {
            throw new IllegalArgumentException("store " + store.getStoreId() + " was added already (client "
                    + listed.get().getClientAddress() + ", peer " + listed.get().getPeerAddress() + ")");
        }
        if (stores.size() >= MAX_STORES) {
            throw new IllegalArgumentException("the cluster has " + MAX_STORES + " added stores, the most a configuration lists");
        }
        List<StoreEndpoint> grown = new ArrayList<>(stores);
        grown.add(store);
        grown.sort((a, b) -> Long.compare(a.getStoreId(), b.getStoreId()));
        return new AddedStores(List.copyOf(grown));
    }

    public Optional<StoreEndpoint> get(long storeId) {
        for (StoreEndpoint store : stores) {
            if (store.getStoreId() == storeId) {
                return Optional.of(store);
            }
        }
        return Optional.empty();
    }

    /** Ascending by id. */
    public List<StoreEndpoint> all() {
        return Collections.unmodifiableList(stores);
    }

    public boolean isEmpty() {
        return stores.isEmpty();
    }

    /** Checks one entry: a positive id and two {@code host:port} addresses. */
    public static void check(StoreEndpoint store) {
        if (store.getStoreId() <= 0) {
            throw new IllegalArgumentException("store ids must be positive (below 2^63), got "
                    + Long.toUnsignedString(store.getStoreId()));
        }
        checkAddress(store.getStoreId(), "client", store.getClientAddress());
        checkAddress(store.getStoreId(), "peer", store.getPeerAddress());
    }

    private static void checkAddress(long storeId, String which, String address) {
        String problem = null;
        int colon = address.lastIndexOf(':');
        if (address.isEmpty() || address.length() > MAX_ADDRESS_CHARS) {
            problem = "must be 1.." + MAX_ADDRESS_CHARS + " characters";
        } else if (colon <= 0 || colon == address.length() - 1) {
            problem = "is not host:port";
        } else if (address.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            problem = "contains a space or a control character";
        } else {
            String port = address.substring(colon + 1);
            if (port.length() > 5 || !port.chars().allMatch(Character::isDigit) || Integer.parseInt(port) < 1
                    || Integer.parseInt(port) > 65535) {
                problem = "has port '" + port + "', not 1..65535";
            }
        }
        if (problem != null) {
            throw new IllegalArgumentException("store " + storeId + ": " + which + " address '" + address + "' " + problem);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AddedStores added && stores.equals(added.stores);
    }

    @Override
    public int hashCode() {
        return stores.hashCode();
    }
}
