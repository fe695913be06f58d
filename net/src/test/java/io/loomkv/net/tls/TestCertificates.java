package io.loomkv.net.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test CA that issues certificates for 127.0.0.1 and localhost (server and client use), written
 * as PEM files the way openssl or cfssl would: what an operator hands a store.
 */
public final class TestCertificates {
    private static final AtomicLong SERIALS = new AtomicLong(System.nanoTime() & 0xffffffffL);

    /** One issued certificate: its PEM files. */
    public record Issued(Path certFile, Path keyFile, X509Certificate certificate) {
    }

    private final String name;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final Path caFile;

    private TestCertificates(String name, KeyPair keys, X509Certificate certificate, Path caFile) {
        this.name = name;
        this.keys = keys;
        this.certificate = certificate;
        this.caFile = caFile;
    }

    /** A new self-signed CA named {@code name}, its certificate written to {@code dir/name-ca.pem}. */
    public static TestCertificates newCa(Path dir, String name) throws Exception {
        KeyPair keys = ecKeys();
        X500Name subject = new X500Name("CN=" + name + " CA,O=loomkv tests");
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate certificate = sign(builder, keys);
        Path caFile = Files.createDirectories(dir).resolve(name + "-ca.pem");
        writeCertificate(caFile, certificate);
        return new TestCertificates(name, keys, certificate, caFile);
    }

    /** The CA's certificate file: what the other side trusts. */
    public Path caFile() {
        return caFile;
    }

    /** A certificate for 127.0.0.1/localhost valid from an hour ago for 30 days, EC key in PKCS#8. */
    public Issued issue(Path dir, String subjectName) throws Exception {
        Instant now = Instant.now();
        return issue(dir, subjectName, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)), ecKeys(), false);
    }

    /** A certificate that expired a day ago. */
    public Issued issueExpired(Path dir, String subjectName) throws Exception {
        Instant now = Instant.now();
        return issue(dir, subjectName, now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1)), ecKeys(), false);
    }

    /** A certificate with an RSA key written as PKCS#1 ({@code BEGIN RSA PRIVATE KEY}). */
    public Issued issueRsaPkcs1(Path dir, String subjectName) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        Instant now = Instant.now();
        return issue(dir, subjectName, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)), generator.generateKeyPair(), true);
    }

    private Issued issue(Path dir, String subjectName, Instant notBefore, Instant notAfter, KeyPair subjectKeys, boolean pkcs1)
            throws Exception {
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(notBefore),
                Date.from(notAfter), new X500Name("CN=" + subjectName + ",O=loomkv tests"), subjectKeys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        builder.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        X509Certificate issued = sign(builder, keys);
        Files.createDirectories(dir);
        Path certFile = dir.resolve(subjectName + ".pem");
        Path keyFile = dir.resolve(subjectName + "-key.pem");
        writeCertificate(certFile, issued);
        if (pkcs1) {
            byte[] der = PrivateKeyInfo.getInstance(subjectKeys.getPrivate().getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded();
            writePem(keyFile, "RSA PRIVATE KEY", der);
        } else {
            writePem(keyFile, "PRIVATE KEY", subjectKeys.getPrivate().getEncoded());
        }
        return new Issued(certFile, keyFile, issued);
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIALS.incrementAndGet());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuerKeys)
            throws OperatorCreationException, GeneralSecurityException {
        String algorithm = issuerKeys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().getCertificate(builder.build(
                new JcaContentSignerBuilder(algorithm).build(issuerKeys.getPrivate())));
    }

    private static void writeCertificate(Path file, X509Certificate certificate) throws IOException, GeneralSecurityException {
        writePem(file, "CERTIFICATE", certificate.getEncoded());
    }

    private static void writePem(Path file, String label, byte[] der) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        Files.writeString(file, "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n", StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return name + " CA";
    }
}
