package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.bench.LatencyReport;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.xml.parsers.DocumentBuilderFactory;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class ReportFilesTest {
    private static Histogram sample(long seed, long scaleNanos) {
        Histogram histogram = LatencyReport.newLatencyHistogram();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 10_000; i++) {
            histogram.recordValue(scaleNanos + (long) (-Math.log(1 - random.nextDouble()) * scaleNanos));
        }
        return histogram;
    }

    @Test
    void svgPlotIsWellFormedWithOneLinePerOperationType() throws Exception {
        Map<String, Histogram> series = new LinkedHashMap<>();
        series.put("read", sample(1, 500_000));
        series.put("update", sample(2, 2_000_000));
        series.put("scan", LatencyReport.newLatencyHistogram()); // empty: not drawn
        String svg = PercentilePlot.render("test <plot> & title", series);
        Document document = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        Element root = document.getDocumentElement();
        assertEquals("svg", root.getTagName());
        NodeList lines = document.getElementsByTagName("polyline");
        assertEquals(2, lines.getLength());
        // Points run left to right with latency non-decreasing (y non-increasing).
        for (int i = 0; i < lines.getLength(); i++) {
            String[] points = ((Element) lines.item(i)).getAttribute("points").split(" ");
            assertTrue(points.length > 10, "points: " + points.length);
            double lastX = -1;
            double lastY = Double.MAX_VALUE;
            for (String point : points) {
                String[] xy = point.split(",");
                double x = Double.parseDouble(xy[0]);
                double y = Double.parseDouble(xy[1]);
                assertTrue(x >= lastX && y <= lastY + 1e-9, "point " + point + " after " + lastX + "," + lastY);
                lastX = x;
                lastY = y;
            }
        }
        assertTrue(svg.contains("99.9%") && svg.contains("read (10000)") && svg.contains("update (10000)"));
    }

    @Test
    void percentilePointsUseALogScaleOfOneOverOneMinusP() {
        Histogram histogram = sample(3, 1_000_000);
        List<double[]> points = PercentilePlot.percentilePoints(histogram);
        assertEquals(0, points.get(0)[0], 1e-9);
        assertEquals(6, points.get(points.size() - 1)[0], 1e-9);
        assertEquals(histogram.highestEquivalentValue(histogram.getMaxValue()) / 1e6, points.get(points.size() - 1)[1], 1e-9);
        assertEquals("0%", PercentilePlot.percentileLabel(0));
        assertEquals("90%", PercentilePlot.percentileLabel(1));
        assertEquals("99%", PercentilePlot.percentileLabel(2));
        assertEquals("99.9%", PercentilePlot.percentileLabel(3));
        assertEquals("99.9999%", PercentilePlot.percentileLabel(6));
        assertEquals(5.0, PercentilePlot.niceCeiling(4.2));
        assertEquals(20.0, PercentilePlot.niceCeiling(11));
        assertEquals(1.0, PercentilePlot.niceCeiling(0));
    }

    @Test
    void hgrmIsHdrHistogramsPercentileDistributionInMicroseconds(@TempDir Path dir) throws Exception {
        Histogram histogram = sample(4, 1_000_000);
        Path file = dir.resolve("latency.hgrm");
        KvBenchCommand.writeHgrm(file, histogram);
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.get(0).trim().startsWith("Value"), lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("#[Mean")), "mean footer");
        assertTrue(lines.get(lines.size() - 1).startsWith("#[Buckets"), lines.get(lines.size() - 1));
        // Data rows: value (us), percentile, total count, 1/(1-p); the last row reaches the total count.
        long lastCount = 0;
        double lastValue = 0;
        for (String line : lines.subList(2, lines.size())) {
            if (line.startsWith("#")) {
                break;
            }
            String[] fields = line.trim().split("\\s+");
            // The 100% row has no 1/(1-p) column (it would be infinite).
            assertTrue(fields.length == 4 || (fields.length == 3 && fields[1].equals("1.000000000000")), line);
            double value = Double.parseDouble(fields[0]);
            long count = Long.parseLong(fields[2]);
            assertTrue(value >= lastValue && count >= lastCount, line);
            lastValue = value;
            lastCount = count;
        }
        assertEquals(histogram.getTotalCount(), lastCount);
        assertEquals(histogram.getMaxValue() / 1000.0, lastValue, histogram.getMaxValue() / 1000.0 * 0.002);
    }

    @Test
    void valuePoolIsSeededAndSized() {
        assertEquals(KvBenchCommand.valuePool(128, 7), KvBenchCommand.valuePool(128, 7));
        assertTrue(KvBenchCommand.valuePool(128, 7).stream().allMatch(v -> v.size() == 128));
        assertTrue(!KvBenchCommand.valuePool(128, 7).equals(KvBenchCommand.valuePool(128, 8)));
    }
}
