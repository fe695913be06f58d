/**
 * A store's metrics and health endpoints: {@link io.loomkv.net.metrics.StoreMetrics} (etcd's
 * metric names under {@code loomkv_}, a Prometheus registry per store, no-op data points when
 * metrics are off) and {@link io.loomkv.net.metrics.MetricsServer} ({@code /metrics},
 * {@code /livez}, {@code /readyz}, {@code /health}). See docs/operations.md.
 */
package io.loomkv.net.metrics;
