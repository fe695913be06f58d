package io.loomkv.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code loomkv bench jmh [JMH ARGS]}: runs the JMH micro-benchmarks bundled in the jar.
 * Everything after {@code jmh} goes to JMH unchanged (options included, so this command has no
 * options of its own), e.g. {@code bench jmh CodecBenchmark -f 1 -wi 2 -i 3}; {@code bench jmh -h}
 * prints JMH's own help.
 */
@Command(name = "jmh", description = "Run the JMH micro-benchmarks; every argument goes to JMH (try -h).")
public final class JmhCommand implements Callable<Integer> {
    @Unmatched
    private List<String> jmhArguments = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        org.openjdk.jmh.Main.main(jmhArguments.toArray(String[]::new));
        return 0;
    }
}
