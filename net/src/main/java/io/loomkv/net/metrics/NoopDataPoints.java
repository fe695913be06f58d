package io.loomkv.net.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.model.snapshots.Labels;

/**
 * Data points that record nothing: what a store without {@code metrics-address} records into, so
 * that metrics off costs an empty call per event (the lead's "metrics on vs off" comparison
 * measures the whole cost of recording this way).
 */
final class NoopDataPoints {
    static final CounterDataPoint COUNTER = new CounterDataPoint() {
        @Override
        public void inc(double amount) {
        }

        @Override
        public void incWithExemplar(double amount, Labels labels) {
        }

        @Override
        public double get() {
            return 0;
        }

        @Override
        public long getLongValue() {
            return 0;
        }
    };

    static final DistributionDataPoint DISTRIBUTION = new DistributionDataPoint() {
        @Override
        public long getCount() {
            return 0;
        }

        @Override
        public double getSum() {
            return 0;
        }

        @Override
        public void observe(double value) {
        }

        @Override
        public void observeWithExemplar(double value, Labels labels) {
        }
    };

    private NoopDataPoints() {
    }
}
