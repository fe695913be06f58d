package io.loomkv.bench;

import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * etcdctl's TLS flags for commands that talk to the stores' client ports: {@code --cacert} (the CA
 * that signed the stores' client-port certificates; setting it turns TLS on) and, for stores with
 * {@code client-cert-auth=true}, {@code --cert}/{@code --key}. Accepted before or after a subcommand.
 * Used by ctl, proxy and bench kv.
 */
public final class ClientTlsOptions {
    @Option(names = "--cacert", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "PEM CA certificates that signed the stores' client certificates; set: connect with TLS")
    Path caFile;

    @Option(names = "--cert", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "PEM client certificate, for stores with client-cert-auth=true (with --key and --cacert)")
    Path certFile;

    @Option(names = "--key", paramLabel = "FILE", scope = ScopeType.INHERIT, description = "PEM private key of --cert")
    Path keyFile;

    /** Whether any of the flags was given. */
    public boolean given() {
        return caFile != null || certFile != null || keyFile != null;
    }

    /**
     * The client's TLS context, or null for plain TCP.
     *
     * @throws IllegalArgumentException for flags that do not go together
     * @throws IOException for files that cannot be used, naming them
     */
    public TlsContext context() throws IOException {
        if (caFile == null) {
            if (certFile != null || keyFile != null) {
                throw new IllegalArgumentException("--cert and --key need --cacert (the CA that signed the stores' certificates)");
            }
            return null;
        }
        return TlsContext.load(TlsFiles.client(caFile, certFile, keyFile), "client");
    }
}
