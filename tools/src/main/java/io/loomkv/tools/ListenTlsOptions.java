package io.loomkv.tools;

import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * TLS towards the loomkv clients of {@code loomkv proxy --listen}, as a store's client port has it:
 * {@code --listen-cert}/{@code --listen-key} turn it on (clients then connect with {@code --cacert}),
 * {@code --listen-trusted-ca} also demands a client certificate signed by that CA. Independent of
 * {@code --cacert/--cert/--key}, the proxy's own TLS towards the cluster.
 */
final class ListenTlsOptions {
    @Option(names = "--listen-cert", paramLabel = "FILE",
            description = "PEM certificate chain presented to loomkv clients; set: the --listen port speaks TLS (with --listen-key)")
    Path certFile;

    @Option(names = "--listen-key", paramLabel = "FILE", description = "PEM private key of --listen-cert")
    Path keyFile;

    @Option(names = "--listen-trusted-ca", paramLabel = "FILE",
            description = "PEM CA certificates; set: loomkv clients must present a certificate signed by one of them")
    Path trustedCaFile;

    /** The --listen port's TLS context, or null for plain TCP. */
    TlsContext context() throws IOException {
        return ServerTlsFlags.context(certFile, keyFile, trustedCaFile, "--listen", "proxy listen port");
    }
}
