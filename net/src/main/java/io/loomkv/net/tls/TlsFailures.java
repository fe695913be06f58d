package io.loomkv.net.tls;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import javax.net.ssl.SSLException;

/**
 * One line an operator can act on for a failed TLS handshake. JSSE's own messages bury the reason
 * in a chain of causes ("PKIX path building failed: ... unable to find valid certification path
 * to requested target"); this names it: expired, not yet valid, signed by an untrusted CA, no
 * certificate presented, or the name does not match.
 */
public final class TlsFailures {
    private TlsFailures() {
    }

    public static String describe(SSLException failure) {
        // Validity first: an expired certificate also fails path validation, further up the chain.
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof CertificateExpiredException) {
                return "TLS handshake failed: the certificate has EXPIRED (" + cause.getMessage() + ")";
            }
            if (cause instanceof CertificateNotYetValidException) {
                return "TLS handshake failed: the certificate is not valid yet (" + cause.getMessage() + ")";
            }
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof CertPathBuilderException || cause instanceof CertPathValidatorException) {
                return "TLS handshake failed: the certificate is not signed by a trusted CA (" + cause.getMessage() + ")";
            }
            if (cause instanceof java.security.cert.CertificateException && cause.getMessage() != null
                    && cause.getMessage().startsWith("No subject alternative")) {
                return "TLS handshake failed: the certificate does not name the address dialled (" + cause.getMessage() + ")";
            }
        }
        String message = String.valueOf(failure.getMessage());
        if (message.contains("Empty client certificate chain") || message.contains("certificate_required")) {
            // Also what a client certificate from another CA looks like here: JSSE presents a
            // certificate only when its issuer is among the CAs this endpoint asked for.
            return "TLS handshake failed: no client certificate presented (none, or none from a trusted CA), and this "
                    + "endpoint requires one (" + message + ")";
        }
        if (message.contains("Received fatal alert")) {
            return "TLS handshake failed: the other side refused the handshake, most often this endpoint's certificate ("
                    + message + ")";
        }
        if (message.contains("Unsupported or unrecognized SSL message")) {
            return "TLS handshake failed: the other side does not speak TLS (a plain-TCP client or server?)";
        }
        return "TLS handshake failed: " + message;
    }
}
