package io.loomkv.net.node;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import java.util.concurrent.CompletionStage;

/** What a store's background drivers need of their own store: its id, its replicas, and requests to them. */
interface LocalStore {
    long storeId();

    Iterable<Replica> replicas();

    /** Executes a request at this store's replica of its group (reads, or writes where it leads). */
    CompletionStage<KvReply> local(KvRequest request);
}
