#!/usr/bin/env bash
# Checks the alert rules and the scrape config with Prometheus's own promtool, and with an
# address (host:port of a store's metrics-address) a live scrape too:
#   ops/prometheus/promtool-check.sh [127.0.0.1:7801]
# Installs promtool when it is missing and this runs as root on Debian (the `prometheus`
# package, without recommends; on a machine with systemd that package also enables a
# Prometheus service on :9090). StoreMetricsTest runs the same checks when promtool is on PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing promtool (Debian package 'prometheus')..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "promtool is missing: install Debian's 'prometheus' package (as root: apt-get install prometheus)" >&2
    exit 1
  fi
fi
promtool check rules ops/prometheus/alerts.yml
promtool check config ops/prometheus/prometheus.yml
if [ $# -gt 0 ]; then
  curl -fsS "http://$1/metrics" | promtool check metrics
  echo "scrape of $1: ok"
fi
