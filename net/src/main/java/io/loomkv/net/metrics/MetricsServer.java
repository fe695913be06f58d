package io.loomkv.net.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.tls.TlsContext;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * A store's HTTP endpoints for operators, with etcd's paths and semantics:
 * <ul>
 *   <li>{@code /metrics}: the store's registry in the Prometheus text format (the client library's
 *       {@link MetricsHandler}, which also speaks OpenMetrics and protobuf when asked);
 *   <li>{@code /livez}: the process runs and can do work; never depends on a leader, so an
 *       orchestrator does not restart stores that merely lost their quorum;
 *   <li>{@code /readyz}: the store serves its groups (every check of {@code ready} passes);
 *   <li>{@code /health}: etcd's older JSON form of readiness, {@code {"health":"true","reason":""}}.
 * </ul>
 * {@code ?verbose} lists the checks one per line ({@code [+]leader ok}). A failing probe answers
 * 503 and always names the failing checks. Any other path is 404, any method but GET/HEAD 405.
 * Requests run on virtual threads; the server binds before {@link #start} returns. With a
 * {@link TlsContext} it serves HTTPS instead (the store's {@code metrics-tls}).
 */
public final class MetricsServer implements AutoCloseable {
    /** Requests served at once; more get 503 at once (scrapers and probes are few; a flood must not pile up work). */
    static final int MAX_CONCURRENT_REQUESTS = 16;
    /** Connections waiting to be accepted. */
    private static final int BACKLOG = 64;

    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds {@code address} and serves {@code metrics}' registry, with {@code live} checked by
     * {@code /livez} and {@code live} plus {@code ready} by {@code /readyz} and {@code /health}.
     */
    public static MetricsServer start(InetSocketAddress address, StoreMetrics metrics, List<HealthCheck> live,
            List<HealthCheck> ready) throws IOException {
        return start(address, metrics, live, ready, null);
    }

    /**
     * The same over HTTPS when {@code tls} is not null: its certificate (reloaded when the files
     * change, for new connections) and, with client-cert-auth, a client certificate demanded of
     * every scraper and probe.
     */
    public static MetricsServer start(InetSocketAddress address, StoreMetrics metrics, List<HealthCheck> live,
            List<HealthCheck> ready, TlsContext tls) throws IOException {
        List<HealthCheck> readiness = java.util.stream.Stream.concat(live.stream(), ready.stream()).toList();
        HttpServer server;
        try {
            server = tls == null ? HttpServer.create(address, BACKLOG) : https(address, tls);
        } catch (IOException e) {
            throw new IOException("metrics-address " + address.getHostString() + ":" + address.getPort()
                    + ": cannot listen: " + e.getMessage(), e);
        }
        MetricsHandler metricsHandler = new MetricsHandler(metrics.registry());
        Semaphore permits = new Semaphore(MAX_CONCURRENT_REQUESTS);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!permits.tryAcquire()) {
                    send(exchange, 503, "text/plain", "busy: " + MAX_CONCURRENT_REQUESTS + " requests in progress\n");
                    return;
                }
                try {
                    dispatch(exchange, metricsHandler, live, readiness);
                } finally {
                    permits.release();
                }
            }
        });
        ExecutorService executor = Executors.newThreadPerTaskExecutor(
                LogContext.inheritNode(Thread.ofVirtual().name("metrics-http-", 0).factory()));
        server.setExecutor(executor);
        server.start();
        return new MetricsServer(server, executor);
    }

    private static HttpsServer https(InetSocketAddress address, TlsContext tls) throws IOException {
        HttpsServer server = HttpsServer.create(address, BACKLOG);
        server.setHttpsConfigurator(new HttpsConfigurator(tls.reloadingSslContext()) {
            @Override
            public void configure(HttpsParameters parameters) {
                parameters.setSSLParameters(tls.serverParameters());
            }
        });
        return server;
    }

    private static void dispatch(HttpExchange exchange, MetricsHandler metricsHandler, List<HealthCheck> live,
            List<HealthCheck> readiness) throws IOException {
        switch (exchange.getRequestURI().getPath()) {
            case "/metrics" -> {
                if (allowed(exchange)) {
                    metricsHandler.handle(exchange);
                }
            }
            case "/livez" -> probe(exchange, "livez", live);
            case "/readyz" -> probe(exchange, "readyz", readiness);
            case "/health" -> health(exchange, readiness);
            default -> send(exchange, 404, "text/plain", "404 page not found: try /metrics, /livez, /readyz or /health\n");
        }
    }

    /** The bound address (the real port when started on port 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.close();
    }

    private static boolean allowed(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        if (method.equals("GET") || method.equals("HEAD")) {
            return true;
        }
        exchange.getResponseHeaders().add("Allow", "GET, HEAD");
        send(exchange, 405, "text/plain", "method " + method + " not allowed\n");
        return false;
    }

    private static void probe(HttpExchange exchange, String name, List<HealthCheck> checks) throws IOException {
        if (!allowed(exchange)) {
            return;
        }
        boolean verbose = isVerbose(exchange.getRequestURI().getRawQuery());
        StringBuilder body = new StringBuilder();
        boolean ok = true;
        for (HealthCheck check : checks) {
            String problem = check.run();
            ok &= problem == null;
            if (problem != null) {
                body.append("[-]").append(check.name()).append(" failed: ").append(problem).append('\n');
            } else if (verbose) {
                body.append("[+]").append(check.name()).append(" ok\n");
            }
        }
        body.append(ok ? "ok\n" : name + " check failed\n");
        send(exchange, ok ? 200 : 503, "text/plain", ok && !verbose ? "ok\n" : body.toString());
    }

    private static void health(HttpExchange exchange, List<HealthCheck> checks) throws IOException {
        if (!allowed(exchange)) {
            return;
        }
        String reason = "";
        for (HealthCheck check : checks) {
            String problem = check.run();
            if (problem != null) {
                reason = check.name() + ": " + problem;
                break;
            }
        }
        String json = "{\"health\":\"" + reason.isEmpty() + "\",\"reason\":\"" + jsonEscape(reason) + "\"}\n";
        send(exchange, reason.isEmpty() ? 200 : 503, "application/json", json);
    }

    /** {@code verbose} or {@code verbose=...} among the query's parameters (etcd accepts both). */
    static boolean isVerbose(String rawQuery) {
        if (rawQuery == null) {
            return false;
        }
        for (String parameter : rawQuery.split("&")) {
            if (parameter.equals("verbose") || parameter.startsWith("verbose=")) {
                return true;
            }
        }
        return false;
    }

    private static String jsonEscape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType + "; charset=utf-8");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
