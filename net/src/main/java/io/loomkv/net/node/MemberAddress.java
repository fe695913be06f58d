package io.loomkv.net.node;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Where a cluster member listens: clients at {@code clientAddress}, peers at {@code peerAddress}.
 * Written in configs and conf-change contexts as {@code id=clientHost:port/peerHost:port}.
 */
public record MemberAddress(long id, InetSocketAddress clientAddress, InetSocketAddress peerAddress) {
    public MemberAddress {
        if (id <= 0) {
            throw new IllegalArgumentException("member id must be positive, got " + id);
        }
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(peerAddress, "peerAddress");
    }

    /** Parses {@code host:port}; the error names what was wrong. */
    public static InetSocketAddress parseHostPort(String text) {
        String trimmed = text.trim();
        int colon = trimmed.lastIndexOf(':');
        if (colon <= 0 || colon == trimmed.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        String host = trimmed.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(trimmed.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has a port that is not a number");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("'" + text + "' has port " + port + " outside 0..65535");
        }
        return new InetSocketAddress(host, port);
    }

    /** Parses {@code id=clientHost:port/peerHost:port}. */
    public static MemberAddress parse(String text) {
        int equals = text.indexOf('=');
        if (equals <= 0) {
            throw new IllegalArgumentException("member '" + text + "' is not id=clientHost:port/peerHost:port");
        }
        long id;
        try {
            id = Long.parseLong(text.substring(0, equals).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member '" + text + "' has an id that is not a number");
        }
        return parseAddresses(id, text.substring(equals + 1));
    }

    /** Parses {@code clientHost:port/peerHost:port} for member {@code id}. */
    public static MemberAddress parseAddresses(long id, String addresses) {
        int slash = addresses.indexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("member " + id + " addresses '" + addresses
                    + "' are not clientHost:port/peerHost:port");
        }
        return new MemberAddress(id, parseHostPort(addresses.substring(0, slash)),
                parseHostPort(addresses.substring(slash + 1)));
    }

    /** The conf-change context for this member: {@code clientHost:port/peerHost:port} in UTF-8. */
    public byte[] toContext() {
        return addresses().getBytes(StandardCharsets.UTF_8);
    }

    public String addresses() {
        return format(clientAddress) + "/" + format(peerAddress);
    }

    public static String format(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    @Override
    public String toString() {
        return id + "=" + addresses();
    }
}
