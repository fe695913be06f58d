package io.loomkv.tools.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.tools.LoomKv;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * The deployment files, which cannot run here (no containers): the Kubernetes manifests, the
 * compose file and the Dockerfile parse and agree with each other and with the code: the ports,
 * the probe paths, the user, and the commands they run are commands this build accepts (the init
 * container's and compose's {@code k8s-config} are run for real and give a loadable config).
 */
class DeploymentFilesTest {
    private static final int CLIENT_PORT = 2379;
    private static final int PEER_PORT = 2380;
    private static final int METRICS_PORT = 2381;
    private static final long USER_ID = 10001;

    @TempDir
    Path dir;

    private static Path sourceRoot() {
        return Path.of(System.getProperty("loomkv.source.root", "..")).toAbsolutePath().normalize();
    }

    /** Every document of every YAML file in ops/k8s, keyed by kind. */
    private static Map<String, List<Map<String, Object>>> manifests() throws IOException {
        Map<String, List<Map<String, Object>>> byKind = new java.util.TreeMap<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(sourceRoot().resolve("ops/k8s"))) {
            files = listing.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        for (Path file : files) {
            try (Reader reader = Files.newBufferedReader(file)) {
                for (Object document : new Yaml().loadAll(reader)) {
                    Map<String, Object> map = map(document);
                    byKind.computeIfAbsent((String) map.get("kind"), k -> new ArrayList<>()).add(map);
                }
            }
        }
        return byKind;
    }

    private static Map<String, Object> only(Map<String, List<Map<String, Object>>> byKind, String kind) {
        List<Map<String, Object>> documents = byKind.get(kind);
        assertNotNull(documents, "no " + kind + " in ops/k8s");
        assertEquals(1, documents.size(), kind);
        return documents.get(0);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        assertTrue(value instanceof Map, "not a mapping: " + value);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        assertTrue(value instanceof List, "not a list: " + value);
        return (List<Object>) value;
    }

    private static Object at(Map<String, Object> root, String... path) {
        Object value = root;
        for (String key : path) {
            value = map(value).get(key);
            assertNotNull(value, "missing " + String.join(".", path));
        }
        return value;
    }

    private static Map<String, Object> named(Object items, String name) {
        return list(items).stream().map(DeploymentFilesTest::map).filter(m -> name.equals(m.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("nothing named " + name + " in " + items));
    }

    @Test
    void statefulSetNamesThePortsProbesUserAndPreStopHook() throws IOException {
        Map<String, List<Map<String, Object>>> byKind = manifests();
        Map<String, Object> set = only(byKind, "StatefulSet");
        assertEquals("Parallel", at(set, "spec", "podManagementPolicy"));
        Map<String, Object> pod = map(at(set, "spec", "template", "spec"));
        assertEquals(USER_ID, ((Number) at(pod, "securityContext", "runAsUser")).longValue());
        assertEquals(true, at(pod, "securityContext", "runAsNonRoot"));
        Map<String, Object> server = named(pod.get("containers"), "loomkv");
        Object ports = server.get("ports");
        assertEquals(CLIENT_PORT, named(ports, "client").get("containerPort"));
        assertEquals(PEER_PORT, named(ports, "peer").get("containerPort"));
        assertEquals(METRICS_PORT, named(ports, "metrics").get("containerPort"));
        assertEquals("/livez", at(server, "livenessProbe", "httpGet", "path"));
        assertEquals("metrics", at(server, "livenessProbe", "httpGet", "port"));
        assertEquals("/readyz", at(server, "readinessProbe", "httpGet", "path"));
        assertEquals("metrics", at(server, "readinessProbe", "httpGet", "port"));

        String preStop = String.join(" ", list(at(server, "lifecycle", "preStop", "exec", "command")).stream().map(String::valueOf).toList());
        assertTrue(preStop.contains("loomkv ctl move-leaders --cluster /etc/loomkv"), preStop);
        assertTrue(LoomKv.commandLine().getSubcommands().get("ctl").getSubcommands().containsKey("move-leaders"));

        List<String> serverArgs = list(server.get("args")).stream().map(String::valueOf).toList();
        CommandLine.ParseResult parsed = LoomKv.commandLine().parseArgs(serverArgs.toArray(String[]::new));
        assertEquals("server", parsed.subcommand().commandSpec().name());
        assertEquals(List.of("server", "--config", "/etc/loomkv/node.properties"), serverArgs);

        Map<String, Object> headless = byKind.get("Service").stream().filter(s -> "None".equals(at(s, "spec", "clusterIP")))
                .findFirst().orElseThrow(() -> new AssertionError("no headless service"));
        assertEquals(at(headless, "metadata", "name"), at(set, "spec", "serviceName"));
        assertEquals(true, at(headless, "spec", "publishNotReadyAddresses"));
        assertEquals(CLIENT_PORT, named(at(headless, "spec", "ports"), "client").get("port"));
        assertEquals(PEER_PORT, named(at(headless, "spec", "ports"), "peer").get("port"));
        Map<String, Object> clientService = byKind.get("Service").stream().filter(s -> !"None".equals(map(s.get("spec")).get("clusterIP")))
                .findFirst().orElseThrow(() -> new AssertionError("no client service"));
        assertEquals(CLIENT_PORT, named(at(clientService, "spec", "ports"), "client").get("port"));

        assertEquals(1, at(only(byKind, "PodDisruptionBudget"), "spec", "maxUnavailable"));
    }

    @Test
    void initContainerRendersALoadableConfigForTheServerToRead() throws Exception {
        Map<String, List<Map<String, Object>>> byKind = manifests();
        Map<String, Object> set = only(byKind, "StatefulSet");
        Map<String, Object> pod = map(at(set, "spec", "template", "spec"));
        Map<String, Object> init = named(pod.get("initContainers"), "config");
        List<String> args = new ArrayList<>();
        Path out = dir.resolve("node.properties");
        for (Object arg : list(init.get("args"))) {
            String text = String.valueOf(arg);
            // Here: no DNS to wait for, and a file of the test's own instead of the pod's volume.
            if (text.startsWith("--wait-dns-seconds=")) {
                text = "--wait-dns-seconds=0";
            } else if (text.startsWith("--out=")) {
                assertEquals("--out=/etc/loomkv/node.properties", text);
                text = "--out=" + out;
            }
            args.add(text);
        }
        args.add("--hostname=loomkv-1");
        args.add("--namespace=prod");
        assertEquals(0, LoomKv.commandLine().execute(args.toArray(String[]::new)), args.toString());
        NodeConfig config = NodeConfigLoader.load(out, Map.of());
        assertEquals(2, config.nodeId());
        assertEquals("loomkv-1." + at(set, "spec", "serviceName") + ".prod.svc.cluster.local", config.clientAddress().getHostString());
        assertEquals(CLIENT_PORT, config.clientAddress().getPort());
        assertEquals(PEER_PORT, config.peerAddress().getPort());
        assertEquals(((Number) at(set, "spec", "replicas")).intValue(), config.members().size());
        Map<String, Object> server = named(pod.get("containers"), "loomkv");
        String dataMount = (String) named(server.get("volumeMounts"), "data").get("mountPath");
        assertTrue(config.dataDirectory().startsWith(Path.of(dataMount)), config.dataDirectory() + " is not on the data volume " + dataMount);
    }

    @Test
    void composeRunsThreeStoresThatRenderTheirConfigFromTheirHostName() throws Exception {
        Map<String, Object> compose;
        try (Reader reader = Files.newBufferedReader(sourceRoot().resolve("ops/docker-compose.yml"))) {
            compose = map(new Yaml().load(reader));
        }
        Map<String, Object> services = map(compose.get("services"));
        assertEquals(List.of("loomkv-0", "loomkv-1", "loomkv-2"), services.keySet().stream().sorted().toList());
        for (Map.Entry<String, Object> entry : services.entrySet()) {
            Map<String, Object> service = map(entry.getValue());
            assertEquals(entry.getKey(), service.get("hostname"));
            String health = String.join(" ", list(at(service, "healthcheck", "test")).stream().map(String::valueOf).toList());
            assertTrue(health.contains("/dev/tcp/127.0.0.1/" + METRICS_PORT) && health.contains("GET /livez"), health);
            String script = String.valueOf(list(service.get("command")).get(0));
            String[] steps = script.split("&&");
            assertEquals(2, steps.length, script);
            assertTrue(steps[1].trim().equals("exec loomkv server --config /var/lib/loomkv/node.properties"), steps[1]);

            List<String> render = shellWords(steps[0].replace("$$HOSTNAME", entry.getKey()));
            assertEquals(List.of("loomkv", "k8s-config"), render.subList(0, 2));
            Path out = dir.resolve(entry.getKey() + ".properties");
            List<String> args = new ArrayList<>();
            for (int i = 1; i < render.size(); i++) {
                String word = render.get(i);
                if (word.equals("--out") || word.equals("--wait-dns-seconds")) {
                    assertEquals(word.equals("--out") ? "/var/lib/loomkv/node.properties" : "120", render.get(i + 1));
                    args.addAll(List.of(word, word.equals("--out") ? out.toString() : "0"));
                    i++;
                } else {
                    args.add(word);
                }
            }
            assertEquals(0, LoomKv.commandLine().execute(args.toArray(String[]::new)), args.toString());
            NodeConfig config = NodeConfigLoader.load(out, Map.of());
            assertEquals(Long.parseLong(entry.getKey().substring("loomkv-".length())) + 1, config.nodeId());
            assertEquals(entry.getKey(), config.clientAddress().getHostString());
            assertEquals(CLIENT_PORT, config.clientAddress().getPort());
            assertEquals(3, config.members().size());
        }
    }

    @Test
    void dockerfileIsMultiStageNonRootWithTheThreePortsAndALivezHealthcheck() throws IOException {
        String dockerfile = Files.readString(sourceRoot().resolve("Dockerfile"));
        assertTrue(Pattern.compile("(?m)^FROM \\S+ AS build$").matcher(dockerfile).find(), "no build stage");
        assertEquals(2, Pattern.compile("(?m)^FROM ").matcher(dockerfile).results().count());
        Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$").matcher(dockerfile);
        assertTrue(user.find(), "USER is not numeric");
        assertEquals(USER_ID, Long.parseLong(user.group(1)));
        assertTrue(dockerfile.contains("EXPOSE " + CLIENT_PORT + " " + PEER_PORT + " " + METRICS_PORT), "EXPOSE");
        assertTrue(dockerfile.contains("VOLUME [\"/var/lib/loomkv\"]"), "VOLUME");
        Matcher health = Pattern.compile("(?ms)^HEALTHCHECK .*?CMD (.*?)$").matcher(dockerfile);
        assertTrue(health.find(), "no HEALTHCHECK");
        assertTrue(health.group(1).contains("/dev/tcp/127.0.0.1/" + METRICS_PORT) && health.group(1).contains("GET /livez"), health.group(1));
        assertTrue(dockerfile.contains("CMD [\"server\", \"--config\", \"/etc/loomkv/node.properties\"]"), "CMD");
    }

    /** Words of a shell command line: single- and double-quoted strings are one word, unquoted. */
    private static List<String> shellWords(String line) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("'([^']*)'|\"([^\"]*)\"|(\\S+)").matcher(line);
        while (m.find()) {
            words.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        }
        return words;
    }
}
