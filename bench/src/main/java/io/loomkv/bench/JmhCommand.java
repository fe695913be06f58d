package io.loomkv.bench;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code loomkv bench jmh [JMH ARGS]}: runs the JMH micro-benchmarks bundled in the jar.
 * Everything after {@code jmh} goes to JMH unchanged, e.g. {@code bench jmh -f 1 -wi 3 Lz4}.
 */
@Command(name = "jmh", description = "Run the JMH micro-benchmarks; arguments go to JMH (try -h).")
public final class JmhCommand implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "JMH_ARG", description = "Arguments passed to JMH unchanged.")
    private List<String> jmhArguments = List.of();

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(jmhArguments.toArray(String[]::new));
        return 0;
    }
}
