#!/usr/bin/env bash
# The test command (README): installs what is missing, builds the real OpenTelemetry Collector and Prometheus from
# their Go modules (cached: a second run builds nothing), starts a Docker Engine if none runs, then `npm test`: lint,
# type-check, the import-cycle check, then the test tiers in order (unit, prometheus, docker, browser, e2e: README).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v chromium >/dev/null || missing+=(chromium)
# A static busybox goes into the locally built test images for their healthchecks.
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
# code-server's kerberos module is built from source against Node 24.
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "Go is missing: the collector and Prometheus are built from their Go modules (https://go.dev/doc/install)." >&2
  exit 1
fi

npm ci --no-audit --no-fund
bash scripts/components.sh >/dev/null
bash scripts/ci/start-dockerd.sh
bash scripts/code-server.sh >/dev/null
npm test
