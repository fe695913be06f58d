package io.loomkv.net.tls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for one endpoint (a store's client port, its peer port, or a client), built from PEM files
 * with the JDK's JSSE, which works on virtual threads as on any thread: connections stay
 * blocking sockets, wrapped after accept or connect, and the handshake happens on the
 * connection's own thread at its first read or write (so a slow handshake never holds up the
 * accept loop, and the connection's read deadlines bound it).
 *
 * <p>Certificates are reloaded when their files change: at most once a second, a new connection
 * looks at the files' modification times and sizes and, if any changed, builds a new context;
 * connections already open keep theirs. A reload that fails (a half-written file, a key that does
 * not match its certificate) keeps the previous context and says why in the log, so rotating
 * certificates can never take a running store down.
 *
 * <p>TLS 1.3 and 1.2 only. A client verifies the server's chain against its trusted CAs and the
 * server's name against the address it dialled (the certificate needs that IP or DNS name as a
 * subject alternative name, as etcd's do).
 */
public final class TlsContext {
    private static final Logger LOG = LoggerFactory.getLogger(TlsContext.class);
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final long RELOAD_CHECK_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final char[] IN_MEMORY_PASSWORD = "loomkv".toCharArray();

    private record Loaded(SSLContext context, List<String> stamps, X509Certificate leaf) {
    }

    private final TlsFiles files;
    private final String name;
    private final ReentrantLock reloadLock = new ReentrantLock();
    private volatile Loaded current;
    private volatile long nextCheckNanos;

    private TlsContext(TlsFiles files, String name, Loaded loaded) {
        this.files = files;
        this.name = name;
        this.current = loaded;
        this.nextCheckNanos = System.nanoTime() + RELOAD_CHECK_INTERVAL_NANOS;
    }

    /**
     * Loads the files now, so that a bad certificate or key stops a store at start with the
     * file's name and the problem rather than at the first connection.
     *
     * @param name what this context is for, in log lines ("client", "peer")
     */
    public static TlsContext load(TlsFiles files, String name) throws IOException {
        return new TlsContext(files, name, build(files, name));
    }

    public TlsFiles files() {
        return files;
    }

    /** Wraps a freshly accepted connection as the server side. */
    public SSLSocket wrapAccepted(Socket plain) throws IOException {
        SSLSocket socket = (SSLSocket) context().getSocketFactory().createSocket(plain, null, true);
        socket.setUseClientMode(false);
        socket.setEnabledProtocols(PROTOCOLS);
        if (files.requireClientCert()) {
            socket.setNeedClientAuth(true);
        }
        return socket;
    }

    /** Wraps a freshly connected socket as the client side of a connection to {@code address}. */
    public SSLSocket wrapConnected(Socket plain, InetSocketAddress address) throws IOException {
        SSLSocket socket = (SSLSocket) context().getSocketFactory().createSocket(plain, address.getHostString(),
                address.getPort(), true);
        socket.setUseClientMode(true);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        return socket;
    }

    /**
     * This endpoint's files as an {@link SSLContext}, for APIs that take one once, such as the JDK's
     * {@code HttpsServer} or a Redis client's socket factory: every new connection still gets the
     * certificates as they are now (reloaded when the files changed). A server applies
     * {@link #serverParameters()} to each connection.
     */
    public SSLContext reloadingSslContext() {
        return new ReloadingSslContext(this::context);
    }

    /** What {@link #wrapAccepted} sets on a server connection: the protocols, and a client certificate when required. */
    public SSLParameters serverParameters() {
        SSLParameters parameters = context().getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setNeedClientAuth(files.requireClientCert());
        return parameters;
    }

    /** The certificate this endpoint presents now (null for a client without one); for tests and status. */
    public X509Certificate certificate() {
        context(); // picks up changed files first
        return current.leaf();
    }

    private SSLContext context() {
        long now = System.nanoTime();
        if (now - nextCheckNanos >= 0 && reloadLock.tryLock()) {
            try {
                nextCheckNanos = now + RELOAD_CHECK_INTERVAL_NANOS;
                List<String> stamps = stamps(files);
                if (!stamps.equals(current.stamps())) {
                    try {
                        current = build(files, name);
                        LOG.info("TLS ({}): reloaded certificate files {}", name, describe(files));
                    } catch (IOException e) {
                        LOG.warn("TLS ({}): certificate files changed but could not be loaded, keeping the previous ones: {}",
                                name, e.getMessage());
                    }
                }
            } finally {
                reloadLock.unlock();
            }
        }
        return current.context();
    }

    private static Loaded build(TlsFiles files, String name) throws IOException {
        List<String> stamps = stamps(files);
        try {
            KeyManagerFactory keys = null;
            X509Certificate leaf = null;
            if (files.certFile() != null) {
                List<X509Certificate> chain = PemFiles.certificates(files.certFile());
                PrivateKey key = PemFiles.privateKey(files.keyFile());
                leaf = chain.get(0);
                requireMatchingKey(files, leaf, key);
                warnIfOutsideValidity(name, files.certFile(), leaf);
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("loomkv", key, IN_MEMORY_PASSWORD, chain.toArray(X509Certificate[]::new));
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, IN_MEMORY_PASSWORD);
            }
            TrustManagerFactory trust = null;
            if (files.trustedCaFile() != null) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                int i = 0;
                for (X509Certificate ca : PemFiles.certificates(files.trustedCaFile())) {
                    store.setCertificateEntry("ca-" + i++, ca);
                }
                trust = TrustManagerFactory.getInstance("PKIX");
                trust.init(store);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return new Loaded(context, stamps, leaf);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS (" + name + "): cannot use " + describe(files) + ": " + e.getMessage(), e);
        }
    }

    /** A certificate whose key is another's fails every handshake with an obscure message: refuse it here by name. */
    private static void requireMatchingKey(TlsFiles files, X509Certificate leaf, PrivateKey key) throws IOException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        byte[] probe = "loomkv key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (!verifier.verify(signature)) {
                throw new IOException("the private key in " + files.keyFile() + " does not belong to the certificate in "
                        + files.certFile() + " (" + leaf.getSubjectX500Principal() + ")");
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("the private key in " + files.keyFile() + " does not fit the certificate in "
                    + files.certFile() + ": " + e.getMessage(), e);
        }
    }

    private static void warnIfOutsideValidity(String name, Path file, X509Certificate leaf) {
        Instant now = Instant.now();
        if (now.isAfter(leaf.getNotAfter().toInstant())) {
            LOG.warn("TLS ({}): the certificate in {} ({}) EXPIRED on {}; the other side will refuse it", name, file,
                    leaf.getSubjectX500Principal(), leaf.getNotAfter().toInstant());
        } else if (now.isBefore(leaf.getNotBefore().toInstant())) {
            LOG.warn("TLS ({}): the certificate in {} ({}) is not valid before {}; the other side will refuse it", name, file,
                    leaf.getSubjectX500Principal(), leaf.getNotBefore().toInstant());
        }
    }

    /** Modification time and size of each file: what a reload check compares. */
    private static List<String> stamps(TlsFiles files) {
        List<String> stamps = new ArrayList<>(3);
        for (Path file : new Path[] {files.certFile(), files.keyFile(), files.trustedCaFile()}) {
            if (file == null) {
                stamps.add("-");
                continue;
            }
            try {
                stamps.add(Files.getLastModifiedTime(file).toMillis() + "/" + Files.size(file));
            } catch (IOException e) {
                stamps.add("missing");
            }
        }
        return stamps;
    }

    private static String describe(TlsFiles files) {
        return "cert " + files.certFile() + ", key " + files.keyFile() + ", trusted CA " + files.trustedCaFile();
    }
}
