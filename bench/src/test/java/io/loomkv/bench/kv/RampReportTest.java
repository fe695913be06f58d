package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Ramp lines, bound detection and the ramp plot from synthetic per-level latencies. */
class RampReportTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MEASURED_NANOS = TimeUnit.SECONDS.toNanos(9);

    /** A level whose reads all take {@code readMillis} and updates {@code updateMillis}, {@code count} of each. */
    private static LevelResult level(long clients, int count, long readMillis, long updateMillis, int errors) {
        OpStats stats = new OpStats();
        for (int i = 0; i < count; i++) {
            stats.recordSuccess(OpType.READ, readMillis * MS);
            stats.recordSuccess(OpType.UPDATE, updateMillis * MS);
        }
        for (int i = 0; i < errors; i++) {
            stats.recordError(OpType.UPDATE);
        }
        return LevelResult.of(clients, MEASURED_NANOS, stats, 0);
    }

    private static List<LevelResult> bending() {
        return List.of(level(64, 9_000, 1, 2, 0), level(128, 18_000, 10, 20, 0), level(192, 13_500, 60, 80, 3));
    }

    private static RampReport report(long boundNanos) {
        return new RampReport(false, RampReport.typesOf(Workload.SEED.mix()), boundNanos);
    }

    @Test
    void oneLinePerLevelWithThroughputPercentilesAndErrors() {
        RampReport report = report(50 * MS);
        List<String> header = report.header(TimeUnit.SECONDS.toNanos(1));
        assertTrue(header.get(0).contains("closed loop") && header.get(0).contains("after its first 1 s"), header.get(0));
        assertEquals(List.of("clients", "ops/s", "p50", "p99", "read", "p99", "update", "p99", "errors"),
                List.of(header.get(1).trim().split("\\s+")));
        List<String> lines = new ArrayList<>();
        bending().forEach(result -> lines.add(report.line(result)));
        // 18,000 operations in 9 s; half are 1 ms reads, half 2 ms updates.
        assertEquals(List.of("64", "2000", "1.00", "2.00", "1.00", "2.00", "0"), List.of(lines.get(0).trim().split("\\s+")));
        assertEquals(List.of("128", "4000", "10.00", "20.00", "10.00", "20.00", "0"), List.of(lines.get(1).trim().split("\\s+")));
        assertEquals(List.of("192", "3000", "60.03", "80.02", "60.03", "80.02", "3", "p99", "over", "the", "bound"),
                List.of(lines.get(2).trim().split("\\s+")));
    }

    @Test
    void theBoundIsFirstPassedAtTheFirstLevelOverIt() {
        List<LevelResult> results = bending();
        assertEquals(2, RampReport.firstAboveBound(results, 50 * MS));
        assertEquals(1, RampReport.firstAboveBound(results, 15 * MS));
        assertEquals(0, RampReport.firstAboveBound(results, MS));
        assertEquals(-1, RampReport.firstAboveBound(results, 100 * MS));
        List<String> summary = report(50 * MS).summary(results);
        assertEquals("ramp: highest throughput 4000 ops/s at 128 clients (p99 20.00 ms)", summary.get(0));
        assertEquals("ramp: p99 first passed 50 ms at 192 clients (p99 80.02 ms, 3000 ops/s); "
                + "the level before, 128 clients, served 4000 ops/s with p99 20.00 ms", summary.get(1));
        assertEquals("ramp: p99 stayed within 100 ms at every level, up to 192 clients (p99 80.02 ms, 3000 ops/s)",
                report(100 * MS).summary(results).get(1));
        assertTrue(report(MS).summary(results).get(1).endsWith("at the first level"), report(MS).summary(results).get(1));
        assertEquals(1, report(RampReport.NO_BOUND).summary(results).size());
    }

    @Test
    void aLevelWhereNothingSucceededCountsAsOverTheBound() {
        List<LevelResult> results = List.of(level(1, 100, 1, 1, 0), level(2, 0, 0, 0, 40));
        assertEquals(1, RampReport.firstAboveBound(results, TimeUnit.SECONDS.toNanos(10)));
        String line = report(TimeUnit.SECONDS.toNanos(10)).line(results.get(1));
        assertEquals(List.of("2", "0", "-", "-", "-", "-", "40", "p99", "over", "the", "bound"), List.of(line.trim().split("\\s+")));
        assertEquals("ramp: p99 first passed 10 s at 2 clients (p99 -: no operation of the level succeeded, 0 ops/s); "
                + "the level before, 1 clients, served 22 ops/s with p99 1.00 ms", report(TimeUnit.SECONDS.toNanos(10)).summary(results).get(1));
    }

    @Test
    void anOpenLoopRampNamesTargetRatesAndPendingOperations() {
        RampReport report = new RampReport(true, List.of(OpType.READ), RampReport.NO_BOUND);
        assertTrue(report.header(TimeUnit.SECONDS.toNanos(1)).get(1).trim().startsWith("target ops/s"));
        OpStats stats = new OpStats();
        stats.recordSuccess(OpType.READ, MS);
        String line = report.line(LevelResult.of(5000, MEASURED_NANOS, stats, 12));
        assertTrue(line.contains("(12 operations of this level unfinished or unsent at this line, not counted)"), line);
    }

    @Test
    void thePlotDrawsThroughputAndP99AgainstTheLevel() throws Exception {
        List<LevelResult> results = new ArrayList<>(bending());
        results.add(level(256, 0, 0, 0, 10));
        String svg = RampPlot.render("ramp <seed> & more", "clients", results, 50 * MS);
        Document document = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        NodeList polylines = document.getElementsByTagName("polyline");
        assertEquals(2, polylines.getLength());
        Element throughput = (Element) polylines.item(0);
        Element p99 = (Element) polylines.item(1);
        assertEquals("throughput", throughput.getAttribute("class"));
        assertEquals("p99", p99.getAttribute("class"));
        double[][] throughputPoints = points(throughput);
        double[][] p99Points = points(p99);
        // Every level has a throughput point; the level where nothing succeeded has no p99.
        assertEquals(4, throughputPoints.length);
        assertEquals(3, p99Points.length);
        for (int i = 1; i < throughputPoints.length; i++) {
            assertTrue(throughputPoints[i][0] > throughputPoints[i - 1][0]);
        }
        // SVG y grows downwards: 4,000 ops/s is the highest point, and p99 climbs level by level.
        assertTrue(throughputPoints[1][1] < throughputPoints[0][1] && throughputPoints[1][1] < throughputPoints[2][1]);
        assertTrue(p99Points[0][1] > p99Points[1][1] && p99Points[1][1] > p99Points[2][1]);
        NodeList lines = document.getElementsByTagName("line");
        boolean bound = false;
        for (int i = 0; i < lines.getLength(); i++) {
            bound |= "p99-bound".equals(((Element) lines.item(i)).getAttribute("class"));
        }
        assertTrue(bound, "the bound is drawn");
        assertTrue(svg.contains("p99 bound 50 ms"));
    }

    private static double[][] points(Element polyline) {
        String[] pairs = polyline.getAttribute("points").split(" ");
        double[][] points = new double[pairs.length][];
        for (int i = 0; i < pairs.length; i++) {
            String[] xy = pairs[i].split(",");
            points[i] = new double[] {Double.parseDouble(xy[0]), Double.parseDouble(xy[1])};
        }
        return points;
    }
}
