package io.loomkv.net.node;

import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;

/**
 * A store's TLS settings, etcd's flags: the client port's certificate ({@code client-cert-file},
 * {@code client-key-file}), whether clients must present a certificate signed by
 * {@code client-trusted-ca-file} ({@code client-cert-auth}), and the peer port's certificate and
 * CA ({@code peer-*}). Peers always verify each other when peer TLS is on: a store presents its
 * peer certificate when it dials a peer and demands one from a peer that dials it, both signed by
 * the peer CA. Either side may be off (null), plain TCP then.
 *
 * <p>The Redis-protocol port ({@code resp-address}) follows the client port: TLS with the same
 * certificate and the same {@code client-cert-auth} when client TLS is on (one port, all TLS or
 * none, so the {@code -MOVED} redirects and {@code CLUSTER SLOTS} never mix plain and TLS
 * addresses). The metrics port serves HTTPS with the client certificate only when asked
 * ({@code metrics-tls}): monitoring and orchestrator probes often sit on a separate network.
 *
 * @param client the client port's server side; null: plain TCP
 * @param peer the peer port (server side, client certificates required) and the store's peer connections; null: plain TCP
 * @param metricsHttps the metrics port serves HTTPS with {@code client}'s files (and its client-cert-auth)
 */
public record StoreTls(TlsFiles client, TlsFiles peer, boolean metricsHttps) {
    /** Plain TCP on both ports. */
    public static final StoreTls PLAIN = new StoreTls(null, null);

    /** Client and peer TLS as given; metrics over plain HTTP. */
    public StoreTls(TlsFiles client, TlsFiles peer) {
        this(client, peer, false);
    }

    public StoreTls {
        if (metricsHttps && client == null) {
            throw new IllegalArgumentException("metrics-tls needs client-cert-file and client-key-file (HTTPS uses the "
                    + "client port's certificate)");
        }
        if (peer != null && (peer.certFile() == null || peer.trustedCaFile() == null || !peer.requireClientCert())) {
            throw new IllegalArgumentException("peer TLS needs peer-cert-file, peer-key-file and peer-trusted-ca-file "
                    + "(peers always verify each other)");
        }
        if (client != null && client.certFile() == null) {
            throw new IllegalArgumentException("client TLS needs client-cert-file and client-key-file");
        }
    }

    /** The client port's context, or null for plain TCP. */
    TlsContext clientServerContext() throws IOException {
        return client == null ? null : TlsContext.load(client, "client port");
    }

    /** The RESP port's context: the client port's certificate and client-cert-auth; null for plain TCP. */
    TlsContext respServerContext() throws IOException {
        return client == null ? null : TlsContext.load(client, "resp port");
    }

    /** The metrics port's context when it serves HTTPS, else null (plain HTTP). */
    TlsContext metricsServerContext() throws IOException {
        return metricsHttps ? TlsContext.load(client, "metrics port") : null;
    }

    /** The peer port's context (demands a peer certificate), or null for plain TCP. */
    TlsContext peerServerContext() throws IOException {
        return peer == null ? null : TlsContext.load(peer, "peer port");
    }

    /** The context of this store's connections to its peers (presents its peer certificate), or null. */
    TlsContext peerClientContext() throws IOException {
        return peer == null ? null : TlsContext.load(TlsFiles.client(peer.trustedCaFile(), peer.certFile(), peer.keyFile()),
                "peer connections");
    }

    /**
     * The context for this store calling other stores' client ports (a joining store asks them for
     * the layout): its client certificate, verifying theirs against the client CA. Null for plain TCP.
     */
    TlsContext clientCallContext() throws IOException {
        if (client == null) {
            return null;
        }
        if (client.trustedCaFile() == null) {
            throw new IOException("a store with client TLS that joins a cluster needs client-trusted-ca-file, to verify "
                    + "the members' client certificates when it asks them for the layout");
        }
        return TlsContext.load(TlsFiles.client(client.trustedCaFile(), client.certFile(), client.keyFile()), "client calls");
    }
}
