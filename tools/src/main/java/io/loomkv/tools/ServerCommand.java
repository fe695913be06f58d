package io.loomkv.tools;

import io.loomkv.net.node.Store;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.NodeConfigKey;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import java.io.File;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code loomkv server}: runs one node until it is stopped (SIGTERM/SIGINT close it cleanly).
 * Every config key ({@link NodeConfigKey}) is also a flag {@code --KEY=VALUE}, added to the
 * command by {@link #addConfigFlags}; a flag overrides the file.
 */
@Command(name = "server", description = "Run one server node: --config FILE and/or one flag per config key.",
        mixinStandardHelpOptions = true)
public final class ServerCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "node config (.properties); e.g. conf/local-3node/node1.properties")
    File config;

    @Spec
    CommandSpec spec;

    /** Adds one {@code --KEY} option per config key to the server command's spec (before parsing). */
    static void addConfigFlags(CommandSpec server) {
        for (NodeConfigKey key : NodeConfigKey.values()) {
            String description = key.description() + (key.defaultValue() == null ? " (required)" : " (default " + key.defaultValue() + ")");
            server.addOption(OptionSpec.builder("--" + key.key()).paramLabel("VALUE").type(String.class)
                    .description(description).build());
        }
    }

    @Override
    public Integer call() {
        Map<String, String> overrides = new LinkedHashMap<>();
        for (NodeConfigKey key : NodeConfigKey.values()) {
            OptionSpec option = spec.findOption("--" + key.key());
            if (option != null && option.getValue() != null) {
                overrides.put(key.key(), option.getValue());
            }
        }
        NodeConfig nodeConfig;
        String logFormat;
        try {
            nodeConfig = NodeConfigLoader.load(config == null ? null : config.toPath(), overrides);
            logFormat = NodeConfigLoader.logFormat(config == null ? null : config.toPath(), overrides);
        } catch (NodeConfigException e) {
            System.err.println("loomkv server: " + e.getMessage());
            return 2;
        }
        if (logFormat.isEmpty() && !LogFormat.current().equals("text") && !LogFormat.current().equals("json")) {
            // logback.xml found no appender of that name and would drop every line.
            System.err.println("loomkv server: " + LogFormat.VARIABLE + "=" + LogFormat.current()
                    + " is neither text nor json; logging as text");
            logFormat = "text";
        }
        if (!logFormat.isEmpty()) {
            LogFormat.use(logFormat);
        }
        Store node;
        try {
            node = Store.start(nodeConfig);
        } catch (DataDirectoryMismatchException e) {
            System.err.println("loomkv server: node " + nodeConfig.nodeId() + " could not start: " + e.getMessage());
            return 1;
        } catch (IOException | RuntimeException e) {
            System.err.println("loomkv server: node " + nodeConfig.nodeId() + " could not start: " + e);
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stopped.countDown();
        }, "shutdown"));
        // A store the shard controller forgot stops by itself; its process has nothing left to do.
        node.forgotten().thenRun(stopped::countDown);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (node.forgotten().isDone()) {
            System.err.println("loomkv server: " + node.forgotten().join());
            return 1;
        }
        return 0;
    }
}
