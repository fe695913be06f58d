package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.loomkv.core.shard.AddedStores;
import io.loomkv.core.shard.proto.StoreEndpoint;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The address book following the shard controller's added and forgotten stores: a forgotten store
 * leaves the book and stays out across a reload and a replayed conf change that once carried its
 * addresses; an id added again takes the configuration's new addresses; an older configuration
 * followed late changes nothing; the store's own id is never dropped.
 */
class MembershipFollowTest {
    private static final List<MemberAddress> INITIAL = List.of(address(1, 7101), address(2, 7102), address(3, 7103));

    @TempDir
    Path dir;

    @Test
    void aForgottenStoreStaysOutOfTheBookAcrossAReloadAndAReplayedConfChange() throws Exception {
        Membership book = new Membership(dir, INITIAL);
        book.follow(2, added(List.of(endpoint(4, 7104)), List.of()), 1);
        assertEquals(address(4, 7104), book.get(4));
        book.follow(5, added(List.of(), List.of(4L)), 1);
        assertNull(book.get(4));

        Membership reloaded = new Membership(dir, INITIAL);
        assertNull(reloaded.get(4), "a restart brought the forgotten store back");
        reloaded.put(address(4, 7104)); // the conf change that once made store 4 a learner, replayed
        assertNull(reloaded.get(4), "a replayed conf change brought the forgotten store back");
        reloaded.put(address(5, 7105)); // a member added by ctl member add is not the controller's
        assertEquals(address(5, 7105), reloaded.get(5));
        assertEquals(address(1, 7101), reloaded.get(1));
    }

    @Test
    void anIdAddedAgainTakesItsNewAddressesAndALateOlderConfigurationChangesNothing() throws Exception {
        Membership book = new Membership(dir, INITIAL);
        book.follow(3, added(List.of(endpoint(4, 7104)), List.of()), 1);
        book.follow(7, added(List.of(endpoint(4, 7204)), List.of()), 1);
        assertEquals(address(4, 7204), book.get(4));
        book.follow(5, added(List.of(), List.of(4L)), 1);
        assertEquals(address(4, 7204), book.get(4), "an older configuration undid a newer one");
    }

    /** After a restart the groups replay their logs and the store takes older configurations again. */
    @Test
    void anOlderConfigurationTakenAfterARestartDoesNotBringAForgottenStoreBack() throws Exception {
        Membership book = new Membership(dir, INITIAL);
        book.follow(3, added(List.of(endpoint(4, 7104)), List.of()), 1);
        book.follow(6, added(List.of(), List.of(4L)), 1);

        Membership reloaded = new Membership(dir, INITIAL);
        reloaded.follow(3, added(List.of(endpoint(4, 7104)), List.of()), 1);
        assertNull(reloaded.get(4), "configuration 3, taken again after the restart, brought the forgotten store back");
        reloaded.put(address(4, 7104));
        assertNull(reloaded.get(4));
        reloaded.follow(8, added(List.of(endpoint(4, 7304)), List.of()), 1);
        assertEquals(address(4, 7304), reloaded.get(4), "a newer configuration adding it again is followed");
    }

    @Test
    void aBadFollowedConfigurationInTheFileIsRefusedByName() throws Exception {
        java.nio.file.Files.writeString(dir.resolve(Membership.FILE_NAME), "followed-configuration=soon\n");
        java.io.IOException refused = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> new Membership(dir, INITIAL));
        org.junit.jupiter.api.Assertions.assertTrue(refused.getMessage().contains("followed-configuration"), refused.getMessage());
    }

    @Test
    void theStoresOwnIdIsNotDropped() throws Exception {
        Membership book = new Membership(dir, List.of(address(1, 7101), address(4, 7104)));
        book.follow(4, added(List.of(), List.of(4L)), 4);
        assertEquals(address(4, 7104), book.get(4));
    }

    private static AddedStores added(List<StoreEndpoint> stores, List<Long> forgotten) {
        return AddedStores.fromProto(stores, forgotten);
    }

    private static StoreEndpoint endpoint(long id, int port) {
        return StoreEndpoint.newBuilder().setStoreId(id).setClientAddress("127.0.0.1:" + port)
                .setPeerAddress("127.0.0.1:" + (port + 100)).build();
    }

    private static MemberAddress address(long id, int port) {
        return new MemberAddress(id, new InetSocketAddress("127.0.0.1", port), new InetSocketAddress("127.0.0.1", port + 100));
    }
}
