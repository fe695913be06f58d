package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.joran.util.ConfigurationWatchListUtil;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code log-format=json}: with logback's JSON encoder switched on at run time (as {@code loomkv
 * server} does), a store's log is one JSON object per line, and its lines carry the store's node
 * id, and the group during a Raft turn, in the MDC. Each line is read by Gson's parser in its strict mode.
 */
class LogFormatTest {
    private static final long NODE_ID = 7;
    /** The logback.xml the jar ships (the tests' class path also holds net's logback-test.xml, which logback would prefer). */
    private static final String LEVEL_VARIABLE = "LOOMKV_LOG_LEVEL";
    private static final URL SHIPPED = LogFormat.class.getResource("/logback.xml");

    @TempDir
    Path dir;

    private URL testLogging;

    @Test
    void aJsonRunWritesOneJsonObjectPerLineWithTheStoresNodeAndGroup() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.err;
        // ctl, run in this JVM by other tests, quiets the log through this property (CtlCommand.quietLogs).
        String level = System.setProperty(LEVEL_VARIABLE, "INFO");
        testLogging = ConfigurationWatchListUtil.getMainWatchURL((LoggerContext) LoggerFactory.getILoggerFactory());
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            LogFormat.use("json", SHIPPED);
            try (Store store = Store.start(singleStore())) {
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!store.isLeader(1) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertTrue(store.isLeader(1), "the only store leads its group");
            }
        } finally {
            if (level == null) {
                System.clearProperty(LEVEL_VARIABLE);
            } else {
                System.setProperty(LEVEL_VARIABLE, level);
            }
            restoreTestLogging();
            System.setErr(original);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().filter(line -> !line.isBlank()).toList();
        assertFalse(lines.isEmpty(), "the store logged at INFO");
        boolean nodeSeen = false;
        boolean groupSeen = false;
        for (String line : lines) {
            JsonObject event = strictJson(line);
            assertTrue(event.has("level") && event.has("formattedMessage") && event.has("timestamp"), line);
            JsonObject mdc = event.getAsJsonObject("mdc");
            if (mdc != null && mdc.has("node") && mdc.get("node").getAsString().equals(String.valueOf(NODE_ID))) {
                nodeSeen = true;
                groupSeen |= mdc.has("group") && mdc.get("group").getAsString().equals("1")
                        && mdc.has("term") && !mdc.get("term").getAsString().isEmpty();
            }
        }
        assertTrue(nodeSeen, "a line with the store's node id in its MDC:\n" + String.join("\n", lines));
        assertTrue(groupSeen, "a line with group 1 and its term in its MDC (the election):\n" + String.join("\n", lines));
    }

    @Test
    void onlyTextAndJsonAreFormats() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> LogFormat.use("xml"));
        assertTrue(bad.getMessage().contains("xml"), bad.getMessage());
    }

    /** The tests' own logging (net's logback-test.xml) again, so that later tests capture what they expect. */
    private void restoreTestLogging() throws JoranException {
        System.clearProperty(LogFormat.VARIABLE);
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        if (testLogging == null) {
            new ContextInitializer(context).autoConfig();
        } else {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            configurator.doConfigure(testLogging);
        }
    }

    private static JsonObject strictJson(String line) throws IOException {
        JsonReader reader = new JsonReader(new StringReader(line));
        reader.setLenient(false);
        // The adapter keeps the reader strict (JsonParser.parseReader would make it lenient).
        JsonElement element = new Gson().getAdapter(JsonElement.class).read(reader);
        assertTrue(element.isJsonObject() && reader.peek() == JsonToken.END_DOCUMENT, "one JSON object: " + line);
        return element.getAsJsonObject();
    }

    private NodeConfig singleStore() throws IOException {
        InetSocketAddress client = new InetSocketAddress("127.0.0.1", freePort());
        InetSocketAddress peer = new InetSocketAddress("127.0.0.1", freePort());
        return new NodeConfig(NODE_ID, "log-format-test", client, peer, dir.resolve("data"),
                List.of(new MemberAddress(NODE_ID, client, peer)), false, 20, 10, 1, 10_000, false, false, 1024, 64 * 1024,
                5_000, 1, 0, 1, 1);
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }
}
