package io.loomkv.bench.kv;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * A self-contained SVG percentile plot in the style of HdrHistogram's plotter: the x axis is the
 * percentile on a log scale of {@code 1/(1-p)} (0%, 90%, 99%, 99.9%, ...), the y axis latency in
 * milliseconds, one line per operation type.
 */
public final class PercentilePlot {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 540;
    private static final int LEFT = 80;
    private static final int RIGHT = 160;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    /** The x axis ends at 99.9999% (10^6). */
    private static final int DECADES = 6;
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

    private PercentilePlot() {
    }

    /** The SVG document; {@code series} maps a label to a histogram in nanoseconds (empty ones are skipped). */
    public static String render(String title, Map<String, Histogram> series) {
        double maxMillis = 0;
        for (Histogram histogram : series.values()) {
            if (histogram.getTotalCount() > 0) {
                maxMillis = Math.max(maxMillis, histogram.getMaxValue() / 1e6);
            }
        }
        double yTop = niceCeiling(maxMillis);
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        StringBuilder svg = new StringBuilder();
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                WIDTH, HEIGHT, WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, HEIGHT));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"25\" font-size=\"16\" text-anchor=\"middle\">%s</text>%n",
                LEFT + plotWidth / 2, escape(title)));
        // Grid and x labels, one per decade of 1/(1-p).
        for (int d = 0; d <= DECADES; d++) {
            double x = LEFT + plotWidth * (double) d / DECADES;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#dddddd\"/>%n",
                    x, TOP, x, TOP + plotHeight));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    x, TOP + plotHeight + 18, percentileLabel(d)));
        }
        for (int i = 0; i <= 5; i++) {
            double y = TOP + plotHeight - plotHeight * i / 5.0;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>%n",
                    LEFT, y, LEFT + plotWidth, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    LEFT - 6, y + 4, formatMillis(yTop * i / 5)));
        }
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>%n",
                LEFT, TOP, plotWidth, plotHeight));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">percentile</text>%n",
                LEFT + plotWidth / 2, HEIGHT - 15));
        svg.append(String.format(Locale.ROOT,
                "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 20 %d)\">latency (ms)</text>%n",
                TOP + plotHeight / 2, TOP + plotHeight / 2));
        int index = 0;
        for (Map.Entry<String, Histogram> entry : series.entrySet()) {
            Histogram histogram = entry.getValue();
            if (histogram.getTotalCount() == 0) {
                continue;
            }
            String colour = COLOURS[index % COLOURS.length];
            StringBuilder points = new StringBuilder();
            for (double[] point : percentilePoints(histogram)) {
                double x = LEFT + plotWidth * Math.min(point[0], DECADES) / DECADES;
                double y = TOP + plotHeight - plotHeight * Math.min(point[1] / yTop, 1);
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                    colour, points.toString().trim()));
            double legendY = TOP + 10 + 20 * index;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>%n",
                    LEFT + plotWidth + 12, legendY, LEFT + plotWidth + 32, legendY, colour));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\">%s (%d)</text>%n",
                    LEFT + plotWidth + 38, legendY + 4, escape(entry.getKey()), histogram.getTotalCount()));
            index++;
        }
        svg.append("</svg>\n");
        return svg.toString();
    }

    /** (log10(1/(1-p)), latency ms) pairs, from HdrHistogram's percentile iteration. */
    static List<double[]> percentilePoints(Histogram histogram) {
        List<double[]> points = new ArrayList<>();
        for (HistogramIterationValue value : histogram.percentiles(5)) {
            double percentile = value.getPercentileLevelIteratedTo() / 100.0;
            if (percentile >= 1.0) {
                // 100%: the max, drawn at the right edge.
                points.add(new double[] {DECADES, histogram.highestEquivalentValue(value.getValueIteratedTo()) / 1e6});
                continue;
            }
            points.add(new double[] {Math.log10(1 / (1 - percentile)), histogram.highestEquivalentValue(value.getValueIteratedTo()) / 1e6});
        }
        return points;
    }

    /** 0%, 90%, 99%, 99.9%, ...: the percentile where 1/(1-p) = 10^decade. */
    static String percentileLabel(int decade) {
        return switch (decade) {
            case 0 -> "0%";
            case 1 -> "90%";
            case 2 -> "99%";
            default -> "99." + "9".repeat(decade - 2) + "%";
        };
    }

    /** 1, 2 or 5 times a power of ten, at least {@code value} (and above 0). */
    static double niceCeiling(double value) {
        if (!(value > 0)) {
            return 1;
        }
        double power = Math.pow(10, Math.floor(Math.log10(value)));
        for (double step : new double[] {1, 2, 5, 10}) {
            if (step * power >= value) {
                return step * power;
            }
        }
        return 10 * power;
    }

    private static String formatMillis(double millis) {
        if (millis == 0) {
            return "0";
        }
        return millis >= 10 ? String.format(Locale.ROOT, "%.0f", millis) : String.format(Locale.ROOT, "%.2f", millis);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
