package io.loomkv.tools;

import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * TLS towards the Redis clients of {@code loomkv proxy --resp-listen}, Redis's {@code tls-cert-file},
 * {@code tls-key-file} and {@code tls-ca-cert-file}: {@code --resp-cert}/{@code --resp-key} turn TLS
 * on (redis-cli --tls, Jedis ssl=true, Lettuce SslOptions), and {@code --resp-trusted-ca} also
 * demands a client certificate signed by that CA. Independent of {@code --cacert/--cert/--key},
 * which are the proxy's own TLS towards the cluster.
 */
final class RespTlsOptions {
    @Option(names = "--resp-cert", paramLabel = "FILE",
            description = "PEM certificate chain presented to Redis clients; set: the RESP port speaks TLS (with --resp-key)")
    Path certFile;

    @Option(names = "--resp-key", paramLabel = "FILE", description = "PEM private key of --resp-cert")
    Path keyFile;

    @Option(names = "--resp-trusted-ca", paramLabel = "FILE",
            description = "PEM CA certificates; set: Redis clients must present a certificate signed by one of them")
    Path trustedCaFile;

    /**
     * The RESP port's TLS context, or null for plain TCP.
     *
     * @throws IllegalArgumentException for flags that do not go together
     * @throws IOException for files that cannot be used, naming them
     */
    TlsContext context() throws IOException {
        return ServerTlsFlags.context(certFile, keyFile, trustedCaFile, "--resp", "proxy resp port");
    }
}
