package io.loomkv.core.shard;

import io.loomkv.core.shard.proto.StoreEndpoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The stores added to a running cluster (controller {@code AddStore}) with their addresses, as a
 * configuration lists them: ascending by id, each id once, addresses of the form {@code host:port};
 * and the ids of added stores forgotten since (controller {@code ForgetStore}) and not added again.
 * The stores a cluster was created with are in neither: every store has them in its config. A
 * configuration carries both lists on unchanged, so whichever configuration a store learns, it
 * learns every added store's addresses (and can then reach a group's replica placed there) and
 * which stores to drop from its address book, even when it missed the configuration that forgot
 * one. Immutable and validated on construction, from the wire included.
 */
public final class AddedStores {
    /** Stores one configuration may list: bounds a layout from the wire. */
    public static final int MAX_STORES = 1024;
    /** Longest address accepted ({@code host:port}; a DNS name is at most 253 characters). */
    public static final int MAX_ADDRESS_CHARS = 261;

    public static final AddedStores NONE = new AddedStores(List.of(), List.of());

    private final List<StoreEndpoint> stores;
    /** Ascending, each once, none of them in {@link #stores}. */
    private final List<Long> forgotten;

    private AddedStores(List<StoreEndpoint> stores, List<Long> forgotten) {
        this.stores = stores;
        this.forgotten = forgotten;
    }

    /** The lists read from a layout message, checked. */
    public static AddedStores fromProto(List<StoreEndpoint> stores, List<Long> forgottenIds) {
        if (stores.isEmpty() && forgottenIds.isEmpty()) {
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
        if (forgottenIds.size() > MAX_STORES) {
            throw new IllegalArgumentException("a configuration lists at most " + MAX_STORES + " forgotten stores, this one "
                    + forgottenIds.size());
        }
        TreeSet<Long> forgotten = new TreeSet<>();
        for (long id : forgottenIds) {
            if (id <= 0 || !forgotten.add(id) || byId.containsKey(id)) {
                throw new IllegalArgumentException("forgotten store " + Long.toUnsignedString(id)
                        + (id <= 0 ? " is not a store id" : byId.containsKey(id) ? " is also listed as added" : " is listed twice"));
            }
        }
        return new AddedStores(List.copyOf(byId.values()), List.copyOf(forgotten));
    }

    /**
     * This list with {@code store} added (refused when its id is listed already). An id forgotten
     * before may be added again: it leaves the forgotten ids.
     */
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
        List<Long> stillForgotten = forgotten.stream().filter(id -> id != store.getStoreId()).toList();
        return new AddedStores(List.copyOf(grown), stillForgotten);
    }

    /**
     * This list without the added store {@code storeId}, whose id joins the forgotten ones (refused
     * for an id that is not listed: a store the cluster was created with, one forgotten already, or
     * one never added).
     */
    public AddedStores without(long storeId) {
        if (get(storeId).isEmpty()) {
            String why = forgotten.contains(storeId) ? "was forgotten already"
                    : "is not an added store (the stores the cluster was created with are fixed; added stores: "
                            + stores.stream().map(StoreEndpoint::getStoreId).toList() + ")";
            throw new IllegalArgumentException("store " + Long.toUnsignedString(storeId) + " " + why);
        }
        if (forgotten.size() >= MAX_STORES) {
            throw new IllegalArgumentException("the cluster has forgotten " + MAX_STORES
                    + " stores, the most a configuration lists; add one of them again first");
        }
        List<StoreEndpoint> shrunk = stores.stream().filter(s -> s.getStoreId() != storeId).toList();
        TreeSet<Long> grown = new TreeSet<>(forgotten);
        grown.add(storeId);
        return new AddedStores(shrunk, List.copyOf(grown));
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

    /** The ids of added stores forgotten since and not added again, ascending. */
    public List<Long> forgotten() {
        return forgotten;
    }

    public boolean isEmpty() {
        return stores.isEmpty() && forgotten.isEmpty();
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
        return other instanceof AddedStores added && stores.equals(added.stores) && forgotten.equals(added.forgotten);
    }

    @Override
    public int hashCode() {
        return 31 * stores.hashCode() + forgotten.hashCode();
    }
}
