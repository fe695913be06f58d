package io.loomkv.tools;

import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The server side of TLS as flags: a certificate and key turn it on, a trusted CA also demands a
 * client certificate signed by it. Shared by the proxy's listening ports ({@link RespTlsOptions},
 * {@link ListenTlsOptions}), which differ only in their flag names.
 */
final class ServerTlsFlags {
    private ServerTlsFlags() {
    }

    /**
     * The context for {@code what}, or null for plain TCP when neither certificate nor key is given.
     *
     * @param prefix the flags' prefix, as in {@code --resp-cert}: {@code "--resp"}
     * @throws IllegalArgumentException for flags that do not go together
     * @throws IOException for files that cannot be used, naming them
     */
    static TlsContext context(Path certFile, Path keyFile, Path trustedCaFile, String prefix, String what) throws IOException {
        if (certFile == null && keyFile == null) {
            if (trustedCaFile != null) {
                throw new IllegalArgumentException(prefix + "-trusted-ca needs " + prefix + "-cert and " + prefix
                        + "-key (TLS on the " + what + ")");
            }
            return null;
        }
        if (certFile == null || keyFile == null) {
            throw new IllegalArgumentException(prefix + "-cert and " + prefix + "-key go together");
        }
        return TlsContext.load(TlsFiles.server(certFile, keyFile, trustedCaFile, trustedCaFile != null), what);
    }
}
