#!/usr/bin/env bash
# Builds the real OpenTelemetry Collector and Prometheus (with promtool) from their Go modules, at the versions
# stack/compose.yaml pins, into the tools cache, and prints where they are on stdout (progress goes to stderr):
#
#   PROMETHEUS_VERSION=3.16.0
#   PROMETHEUS=<cache>/prometheus-3.16.0-go1.26.8/prometheus
#   PROMTOOL=<cache>/prometheus-3.16.0-go1.26.8/promtool
#   COLLECTOR_VERSION=0.161.0
#   COLLECTOR=<cache>/otelcol-0.161.0-<hash of builder.yaml>-go1.26.8/otelcol-contrib
#   CORTEX_VERSION=1.21.1
#   CORTEX=<cache>/cortex-1.21.1-go1.26.8/cortex
#
# - Prometheus: github.com/prometheus/prometheus at module v0.3NN.P, which is Prometheus 3.NN.P, built from the
#   module's own go.mod and go.sum, static (no cgo) and version-stamped like its release builds. The web UI's
#   assets are an npm build the module does not ship: this Prometheus serves its HTTP API (all the extension and
#   Grafana use) but no UI pages.
# - The collector: the OpenTelemetry Collector Builder at the release stack/collector/builder.yaml names, with
#   exactly the components that manifest lists.
# - Cortex, the team's store, at the version stack/team/compose.yaml pins: built from the module's own go.mod (its
#   replace directives make `go install` refuse it), with the tags its release builds use: without `slicelabels`
#   every ingester panics on the first push.
# A build is keyed by version, manifest and Go version, made in a staging directory and renamed into place when
# complete, so a second run builds nothing and concurrent runs (flock) build once.
#
# Needs Go (1.26: /usr/local/go/bin is searched too) and the Go module proxy.
#
# Environment:
#   CCT_TOOLS_DIR   cache root (default ~/.cache/claude-code-telemetry-tools)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${CCT_TOOLS_DIR:-${HOME:-/root}/.cache/claude-code-telemetry-tools}"
cache="$tools_dir/components"

log() { printf '[components.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null 2>&1 || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || die "Go is not installed (https://go.dev/doc/install; Debian: apt-get install golang-go)"
go_version="$(go env GOVERSION)"
# Each module is built as its own main module: a go.work in a module zip (Prometheus ships one) must not apply.
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath

prometheus_version="$(sed -nE 's|^\s*image: \$\{CCT_PROMETHEUS_IMAGE:-prom/prometheus:v([0-9]+\.[0-9]+\.[0-9]+)\}.*|\1|p' "$repo/stack/compose.yaml")"
[ -n "$prometheus_version" ] || die "no prom/prometheus:vX.Y.Z pin found in stack/compose.yaml"
collector_version="$(sed -nE 's|^  version: ([0-9]+\.[0-9]+\.[0-9]+)$|\1|p' "$repo/stack/collector/builder.yaml")"
[ -n "$collector_version" ] || die "no dist.version found in stack/collector/builder.yaml"
cortex_version="$(sed -nE 's|^\s*image: \$\{CCT_CORTEX_IMAGE:-quay.io/cortexproject/cortex:v([0-9]+\.[0-9]+\.[0-9]+)\}.*|\1|p' "$repo/stack/team/compose.yaml" | head -1)"
[ -n "$cortex_version" ] || die "no quay.io/cortexproject/cortex:vX.Y.Z pin found in stack/team/compose.yaml"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
stage=''
# A build that fails leaves nothing half-made in the cache.
trap 'if [ -n "$stage" ]; then rm -rf "$stage"; fi' EXIT

# Prometheus 3.NN.P is the Go module v0.3NN.P.
IFS=. read -r p_major p_minor p_patch <<<"$prometheus_version"
[ "$p_major" = 3 ] || die "Prometheus $prometheus_version: only 3.x maps onto the module's v0.3NN versions"
prometheus_module="v0.$((300 + p_minor)).$p_patch"
prometheus_dir="$cache/prometheus-$prometheus_version-$go_version"
if [ ! -x "$prometheus_dir/promtool" ]; then
  log "building Prometheus $prometheus_version (github.com/prometheus/prometheus@$prometheus_module) with $go_version"
  started=$(date +%s)
  src="$(go mod download -json "github.com/prometheus/prometheus@$prometheus_module" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')"
  [ -d "$src" ] || die "go mod download github.com/prometheus/prometheus@$prometheus_module gave no source directory"
  stage="$(mktemp -d "$cache/.prometheus.XXXXXX")"
  ldflags="-X github.com/prometheus/common/version.Version=$prometheus_version"
  ldflags+=" -X github.com/prometheus/common/version.Revision=$prometheus_module"
  ldflags+=" -X github.com/prometheus/common/version.Branch=module"
  ldflags+=" -X github.com/prometheus/common/version.BuildUser=claude-code-telemetry"
  for cmd in prometheus promtool; do
    (cd "$src" && go build -ldflags "$ldflags" -o "$stage/$cmd" "./cmd/$cmd") >&2
  done
  rm -rf "$prometheus_dir"
  mv "$stage" "$prometheus_dir"
  log "built Prometheus $prometheus_version in $(( $(date +%s) - started )) s"
fi

manifest_hash="$(sha256sum "$repo/stack/collector/builder.yaml" | cut -c1-12)"
collector_dir="$cache/otelcol-$collector_version-$manifest_hash-$go_version"
if [ ! -x "$collector_dir/otelcol-contrib" ]; then
  log "building the OpenTelemetry Collector $collector_version (stack/collector/builder.yaml) with $go_version"
  started=$(date +%s)
  builder_dir="$cache/builder-$collector_version-$go_version"
  if [ ! -x "$builder_dir/builder" ]; then
    GOBIN="$builder_dir" go install "go.opentelemetry.io/collector/cmd/builder@v$collector_version" >&2
  fi
  stage="$(mktemp -d "$cache/.otelcol.XXXXXX")"
  # The manifest as it is, with this build's output directory.
  sed "/^dist:\$/a\\  output_path: $stage/src" "$repo/stack/collector/builder.yaml" >"$stage/builder.yaml"
  "$builder_dir/builder" --config="$stage/builder.yaml" >&2
  mkdir -p "$stage/bin"
  mv "$stage/src/otelcol-contrib" "$stage/bin/otelcol-contrib"
  rm -rf "$stage/src" "$collector_dir"
  mv "$stage/bin" "$collector_dir"
  rm -rf "$stage"
  log "built the collector $collector_version in $(( $(date +%s) - started )) s"
fi

cortex_dir="$cache/cortex-$cortex_version-$go_version"
if [ ! -x "$cortex_dir/cortex" ]; then
  log "building Cortex $cortex_version (github.com/cortexproject/cortex@v$cortex_version) with $go_version"
  started=$(date +%s)
  src="$(go mod download -json "github.com/cortexproject/cortex@v$cortex_version" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')"
  [ -d "$src" ] || die "go mod download github.com/cortexproject/cortex@v$cortex_version gave no source directory"
  stage="$(mktemp -d "$cache/.cortex.XXXXXX")"
  ldflags="-X github.com/prometheus/common/version.Version=$cortex_version"
  ldflags+=" -X github.com/prometheus/common/version.Branch=module"
  ldflags+=" -X github.com/prometheus/common/version.BuildUser=claude-code-telemetry"
  (cd "$src" && go build -tags netgo,slicelabels -ldflags "$ldflags" -o "$stage/cortex" ./cmd/cortex) >&2
  rm -rf "$cortex_dir"
  mv "$stage" "$cortex_dir"
  log "built Cortex $cortex_version in $(( $(date +%s) - started )) s"
fi

printf 'PROMETHEUS_VERSION=%s\nPROMETHEUS=%s\nPROMTOOL=%s\nCOLLECTOR_VERSION=%s\nCOLLECTOR=%s\n' \
  "$prometheus_version" "$prometheus_dir/prometheus" "$prometheus_dir/promtool" "$collector_version" "$collector_dir/otelcol-contrib"
printf 'CORTEX_VERSION=%s\nCORTEX=%s\n' "$cortex_version" "$cortex_dir/cortex"
