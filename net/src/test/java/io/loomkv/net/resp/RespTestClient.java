package io.loomkv.net.resp;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A raw RESP client for tests: sends commands (or any bytes) and reads replies as plain Java
 * values: simple strings as String, errors as String starting with '-', integers as Long, bulk
 * strings as String (null for a null), arrays as List, RESP3 maps as Map, doubles as Double,
 * booleans as Boolean.
 */
final class RespTestClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RespTestClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    private RespTestClient(InputStream in) {
        this.socket = null;
        this.in = in;
        this.out = OutputStream.nullOutputStream();
    }

    /** Every reply in {@code bytes}; fails when they end inside a reply or hold something that is not RESP. */
    static List<Object> parseAll(byte[] bytes) throws IOException {
        RespTestClient reader = new RespTestClient(new java.io.ByteArrayInputStream(bytes));
        List<Object> replies = new ArrayList<>();
        while (reader.in.available() > 0) {
            replies.add(reader.read());
        }
        return replies;
    }

    static byte[] encode(String... arguments) {
        StringBuilder request = new StringBuilder("*").append(arguments.length).append("\r\n");
        for (String argument : arguments) {
            byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
            request.append('$').append(bytes.length).append("\r\n").append(argument).append("\r\n");
        }
        return request.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Sends one command and reads its reply. */
    Object call(String... arguments) throws IOException {
        send(encode(arguments));
        return read();
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(String raw) throws IOException {
        send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    Object read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("connection closed");
        }
        String line = line();
        return switch (type) {
            case '+' -> line;
            case '-' -> "-" + line;
            case ':' -> Long.parseLong(line);
            case '$' -> bulk(Integer.parseInt(line));
            case '*' -> array(Integer.parseInt(line));
            case '%' -> map(Integer.parseInt(line));
            case '_' -> null;
            case ',' -> Double.parseDouble(line.replace("inf", "Infinity"));
            case '#' -> line.equals("t");
            default -> throw new IOException("unexpected reply type '" + (char) type + "' " + line);
        };
    }

    /** True when the server closed the connection (end of stream on the next read). */
    boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketException e) {
            return true; // A reset: closed with our unread bytes still in its buffer.
        }
    }

    private String bulk(int length) throws IOException {
        if (length < 0) {
            return null;
        }
        byte[] value = in.readNBytes(length);
        line();
        return new String(value, StandardCharsets.UTF_8);
    }

    private List<Object> array(int count) throws IOException {
        if (count < 0) {
            return null;
        }
        List<Object> elements = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            elements.add(read());
        }
        return elements;
    }

    private Map<Object, Object> map(int count) throws IOException {
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            map.put(read(), read());
        }
        return map;
    }

    private String line() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\r') {
            if (b < 0) {
                throw new EOFException("connection closed inside a reply line");
            }
            bytes.write(b);
        }
        if (in.read() != '\n') {
            throw new IOException("CR without LF in a reply");
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        }
    }
}
