#!/usr/bin/env bash
# Runs the extension in a real VS Code in the browser (code-server) on this machine:
#   npm ci (if node_modules is missing) -> npm run package -> scripts/code-server.sh
#   -> install the .vsix into a dedicated extensions dir -> code-server on 127.0.0.1:$PORT
#   opening this repository. Open the printed URL; Ctrl+C stops it.
#
# The folder is trusted (--disable-workspace-trust): in Restricted Mode VS Code does not run
# the extension at all. It does not start the telemetry stack: the extension's "Claude Telemetry: Start
# Telemetry Stack" command does that.
#
# Environment:
#   PORT            port on 127.0.0.1 (default 8080)
#   PASSWORD        if set, code-server asks for this password; if not, auth is off, which
#                   is acceptable only because it listens on the loopback address alone
#   CCT_RUN_DIR     user-data/extensions dir (default run/ in the tools cache of
#                   scripts/code-server.sh; outside the repo, where vsce and eslint would see it)
#   CCT_WORKSPACE   folder to open (default the repository)
#   CCT_FRESH=1     start from an empty user-data dir
#   CCT_IMAGES      auto (default), registry or local. auto: the pinned upstream images of stack/compose.yaml when
#                   the engine reaches their registry, otherwise local. local: images built here, the REAL
#                   OpenTelemetry Collector and Prometheus from their Go modules (scripts/components.sh) and TEST
#                   DOUBLES of Loki and Grafana (test/doubles; they are AGPL and never built here). It always says
#                   which it chose.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

port="${PORT:-8080}"
run_dir="${CCT_RUN_DIR:-${CCT_TOOLS_DIR:-${HOME:-/root}/.cache/claude-code-telemetry-tools}/run}"
workspace="${CCT_WORKSPACE:-$repo}"
vsix="$repo/dist-vsix/claude-code-telemetry.vsix"

log() { printf '[run.sh] %s\n' "$*" >&2; }

if [ ! -d node_modules ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

log "npm run package"
npm run package >&2
[ -f "$vsix" ] || { log "error: npm run package produced no $vsix"; exit 1; }

code_server="$(bash "$repo/scripts/code-server.sh")"

# The stack needs a Docker Engine: start one if none answers (as root; otherwise start yours).
bash "$repo/scripts/ci/start-dockerd.sh" >&2

images="${CCT_IMAGES:-auto}"
pinned="$(sed -nE 's|^\s*image: \$\{CCT_[A-Z]+_IMAGE:-([^}]+)\}.*|\1|p' "$repo/stack/compose.yaml")"
if [ "$images" = auto ]; then
  # The engine asks the registry for each pinned image's manifest: a quick yes or no, no download.
  # shellcheck disable=SC2086
  if node -e '
    const Docker = require("dockerode");
    const docker = new Docker();
    Promise.all(process.argv.slice(1).map((ref) => docker.getImage(ref).distribution()))
      .then(() => process.exit(0), (error) => { console.error(`[run.sh] the registry does not answer: ${error.message.split("\n")[0]}`); process.exit(1); });
  ' $pinned; then
    images=registry
  else
    images=local
  fi
fi
machine_settings=''
case "$images" in
  registry)
    log "using the pinned upstream images: $(echo $pinned)"
    ;;
  local)
    log "using LOCAL images: the real OpenTelemetry Collector and Prometheus built here from their Go modules,"
    log "and TEST DOUBLES of Loki and Grafana (test/doubles: not the real Loki or Grafana)"
    npm run compile-tests >&2
    machine_settings="$(node -e '
      const { ensureTestImages } = require("./out/test/support/docker.js");
      ensureTestImages().then((images) => {
        const settings = Object.entries(images).map(([service, ref]) => `  "claudeTelemetry.stack.images.${service}": ${JSON.stringify(ref)}`);
        console.log(settings.join(",\n"));
      }).catch((error) => { console.error(error.message); process.exit(1); });')"
    ;;
  *)
    log "error: CCT_IMAGES is \"$images\"; use auto, registry or local"
    exit 1
    ;;
esac

if [ "${CCT_FRESH:-0}" = 1 ]; then
  rm -rf "$run_dir"
fi
mkdir -p "$run_dir/user-data/User" "$run_dir/user-data/Machine" "$run_dir/extensions"
settings="$run_dir/user-data/User/settings.json"
if [ ! -f "$settings" ]; then
  cat >"$settings" <<EOF
{
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off"
}
EOF
fi
# The stack settings describe the machine the stack runs on: code-server runs extensions as in a remote window, whose
# Machine (Remote) settings say that. Written on every run, so that the images follow the choice above.
printf '{\n%s\n}\n' "$machine_settings" >"$run_dir/user-data/Machine/settings.json"

# An empty config file so code-server writes none to ~/.config/code-server.
config="$run_dir/config.yaml"
[ -f "$config" ] || printf 'cert: false\n' >"$config"

common=(--config "$config" --user-data-dir "$run_dir/user-data" --extensions-dir "$run_dir/extensions")
log "installing $vsix"
"$code_server" "${common[@]}" --force --install-extension "$vsix" >&2

if [ -n "${PASSWORD:-}" ]; then
  auth=password # code-server reads $PASSWORD itself
else
  # No password: acceptable only because code-server listens on 127.0.0.1 alone.
  auth=none
fi

url="http://127.0.0.1:$port/?folder=$workspace"
log "code-server $("$code_server" --config "$config" --version 2>/dev/null | head -n1 | cut -d' ' -f1) on 127.0.0.1:$port (auth: $auth)"
printf '\n  Open: %s\n\n' "$url"
exec "$code_server" "${common[@]}" \
  --bind-addr "127.0.0.1:$port" \
  --auth "$auth" \
  --disable-telemetry \
  --disable-update-check \
  --disable-getting-started-override \
  --disable-workspace-trust \
  "$workspace"
