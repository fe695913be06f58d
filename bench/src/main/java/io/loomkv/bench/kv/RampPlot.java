package io.loomkv.bench.kv;

import java.util.List;
import java.util.Locale;

/**
 * A self-contained SVG of a ramp, in the manner of {@link PercentilePlot}: the level (clients or
 * target ops/s) on the x axis, the achieved throughput on the left axis and the p99 of all
 * operations on the right one, one marked line each, and {@code --p99-bound} as a dashed line on
 * the p99 axis. Levels where nothing succeeded have no p99 point.
 */
public final class RampPlot {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 540;
    private static final int LEFT = 90;
    private static final int RIGHT = 90;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;
    private static final int TICKS = 5;
    private static final String THROUGHPUT_COLOUR = "#1f77b4";
    private static final String P99_COLOUR = "#d62728";

    private RampPlot() {
    }

    /** The SVG document; {@code p99BoundNanos} is {@link RampReport#NO_BOUND} for none. */
    public static String render(String title, String levelName, List<LevelResult> results, long p99BoundNanos) {
        if (results.isEmpty()) {
            throw new IllegalArgumentException("a ramp plot needs at least one level");
        }
        double maxOps = 0;
        double maxP99Millis = p99BoundNanos / 1e6;
        for (LevelResult result : results) {
            maxOps = Math.max(maxOps, result.opsPerSecond());
            if (result.operations() > 0) {
                maxP99Millis = Math.max(maxP99Millis, result.p99Nanos() / 1e6);
            }
        }
        double opsTop = PercentilePlot.niceCeiling(maxOps);
        double millisTop = PercentilePlot.niceCeiling(maxP99Millis);
        long firstLevel = results.get(0).level();
        long lastLevel = results.get(results.size() - 1).level();
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
        for (int i = 0; i <= TICKS; i++) {
            double y = TOP + plotHeight - plotHeight * i / (double) TICKS;
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>%n",
                    LEFT, y, LEFT + plotWidth, y));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">%.0f</text>%n",
                    LEFT - 6, y + 4, THROUGHPUT_COLOUR, opsTop * i / TICKS));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" fill=\"%s\">%s</text>%n",
                    LEFT + plotWidth + 6, y + 4, P99_COLOUR, formatMillis(millisTop * i / TICKS)));
        }
        for (LevelResult result : results) {
            double x = x(result.level(), firstLevel, lastLevel, plotWidth);
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n",
                    x, TOP + plotHeight + 18, result.level()));
        }
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>%n",
                LEFT, TOP, plotWidth, plotHeight));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                LEFT + plotWidth / 2, HEIGHT - 15, escape(levelName)));
        svg.append(String.format(Locale.ROOT,
                "<text x=\"20\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" transform=\"rotate(-90 20 %d)\">achieved ops/s</text>%n",
                TOP + plotHeight / 2, THROUGHPUT_COLOUR, TOP + plotHeight / 2));
        svg.append(String.format(Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" transform=\"rotate(90 %d %d)\">p99, all operations (ms)</text>%n",
                WIDTH - 20, TOP + plotHeight / 2, P99_COLOUR, WIDTH - 20, TOP + plotHeight / 2));
        if (p99BoundNanos != RampReport.NO_BOUND) {
            double y = TOP + plotHeight - plotHeight * (p99BoundNanos / 1e6) / millisTop;
            svg.append(String.format(Locale.ROOT,
                    "<line class=\"p99-bound\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"6 4\"/>%n",
                    LEFT, y, LEFT + plotWidth, y, P99_COLOUR));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" fill=\"%s\">p99 bound %s</text>%n",
                    LEFT + 6, y - 4, P99_COLOUR, RampReport.formatDuration(p99BoundNanos)));
        }
        StringBuilder throughput = new StringBuilder();
        StringBuilder p99 = new StringBuilder();
        StringBuilder markers = new StringBuilder();
        for (LevelResult result : results) {
            double x = x(result.level(), firstLevel, lastLevel, plotWidth);
            double yOps = TOP + plotHeight - plotHeight * result.opsPerSecond() / opsTop;
            throughput.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, yOps));
            markers.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", x, yOps, THROUGHPUT_COLOUR));
            if (result.operations() > 0) {
                double yP99 = TOP + plotHeight - plotHeight * Math.min(result.p99Nanos() / 1e6 / millisTop, 1);
                p99.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, yP99));
                markers.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", x, yP99, P99_COLOUR));
            }
        }
        svg.append(String.format(Locale.ROOT, "<polyline class=\"throughput\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                THROUGHPUT_COLOUR, throughput.toString().trim()));
        svg.append(String.format(Locale.ROOT, "<polyline class=\"p99\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>%n",
                P99_COLOUR, p99.toString().trim()));
        svg.append(markers);
        svg.append("</svg>\n");
        return svg.toString();
    }

    /** Levels on a linear axis; a single level sits in the middle. */
    private static double x(long level, long firstLevel, long lastLevel, int plotWidth) {
        if (lastLevel == firstLevel) {
            return LEFT + plotWidth / 2.0;
        }
        return LEFT + plotWidth * (level - firstLevel) / (double) (lastLevel - firstLevel);
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
