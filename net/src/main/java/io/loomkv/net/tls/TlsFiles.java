package io.loomkv.net.tls;

import java.nio.file.Path;

/**
 * The files of one TLS endpoint, etcd's flags: a certificate chain and its key (PEM) presented to
 * the other side, the CA certificates trusted to sign the other side's certificate, and whether a
 * server demands a certificate of its clients ({@code client-cert-auth}).
 *
 * <p>A server needs {@code certFile} and {@code keyFile}, and {@code trustedCaFile} when it
 * demands client certificates. A client needs {@code trustedCaFile} (a server is always verified)
 * and presents {@code certFile}/{@code keyFile} when it has them.
 *
 * @param certFile PEM certificate chain, leaf first; null when none is presented
 * @param keyFile PEM private key of the leaf certificate; null exactly when certFile is
 * @param trustedCaFile PEM CA certificates; null: a server demands no client certificates
 * @param requireClientCert a server refuses clients without a certificate signed by trustedCaFile
 */
public record TlsFiles(Path certFile, Path keyFile, Path trustedCaFile, boolean requireClientCert) {
    public TlsFiles {
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("a certificate file and a key file go together; got cert " + certFile
                    + " and key " + keyFile);
        }
        if (requireClientCert && trustedCaFile == null) {
            throw new IllegalArgumentException("client certificate authentication needs a trusted CA file");
        }
    }

    /** A server endpoint: presents its certificate; with {@code clientCertAuth} demands one signed by {@code trustedCaFile}. */
    public static TlsFiles server(Path certFile, Path keyFile, Path trustedCaFile, boolean clientCertAuth) {
        if (certFile == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate and key file");
        }
        return new TlsFiles(certFile, keyFile, trustedCaFile, clientCertAuth);
    }

    /** A client endpoint: verifies the server against {@code trustedCaFile}; presents certFile/keyFile when given. */
    public static TlsFiles client(Path trustedCaFile, Path certFile, Path keyFile) {
        if (trustedCaFile == null) {
            throw new IllegalArgumentException("a TLS client needs the CA file that signed the servers' certificates (--cacert)");
        }
        return new TlsFiles(certFile, keyFile, trustedCaFile, false);
    }
}
