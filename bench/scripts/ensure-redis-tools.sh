#!/usr/bin/env bash
# Installs redis-cli (Debian's redis-tools) when it is missing, for the tests that drive the stores'
# Redis-protocol endpoints with it (StoreRespRedisCliTest). Never fails: where apt-get is missing,
# or neither root nor a password-less sudo is there, or the install fails, it says why and the
# test skips with a message of its own.
set -u
if command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi
say() { echo "ensure-redis-tools: $*; the redis-cli tests will be skipped" >&2; }
if ! command -v apt-get >/dev/null 2>&1; then
  say "redis-cli is missing and there is no apt-get to install Debian's redis-tools"
  exit 0
fi
run=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run=(sudo -n)
  else
    say "redis-cli is missing, and installing redis-tools needs root (or a password-less sudo)"
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-redis-tools: installing Debian's redis-tools (redis-cli)" >&2
if "${run[@]}" apt-get install -y -q redis-tools >/dev/null 2>&1 \
    || { "${run[@]}" apt-get update -q >/dev/null 2>&1 && "${run[@]}" apt-get install -y -q redis-tools >/dev/null 2>&1; }; then
  exit 0
fi
say "apt-get install redis-tools failed"
exit 0
