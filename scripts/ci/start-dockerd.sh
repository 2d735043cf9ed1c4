#!/usr/bin/env bash
# Start a Docker Engine for the tests if none answers, and wait until it is ready.
#
# Idempotent: when `docker info` already succeeds (a developer's Docker, Docker Desktop, a CI service, or an earlier
# run of this script) it does nothing. Otherwise it starts `dockerd` in the background (root needed: CI runs as
# root in a fresh clone; Debian/Ubuntu: apt-get install -y docker.io), logs to $DOCKERD_LOG, and waits.
#
#   DOCKER_HOST           unix:///path.sock to start/await an Engine there (default unix:///var/run/docker.sock);
#                         tcp:// or ssh:// hosts are only checked, never started
#   DOCKERD_LOG           log of a dockerd started here (default /var/log/cct-dockerd.log)
#   DOCKERD_PIDFILE       its pid file (default /var/run/docker.pid, dockerd's own default)
#   DOCKERD_WAIT_SECONDS  how long to wait for the Engine to answer (default 60)
#   DOCKERD_ARGS          extra dockerd arguments (e.g. --storage-driver=vfs where overlayfs is unavailable).
#                         A second Engine next to a running one needs its own --data-root and --exec-root, and
#                         must NOT get --bridge=none: dockerd then deletes docker0, breaking the other Engine's
#                         default bridge network (use --bridge=<another bridge> or leave the default alone).
#
# Exit 0 when the Engine answers; 1 when it could not be started or did not answer in time (log tail printed).
set -euo pipefail

host="${DOCKER_HOST:-unix:///var/run/docker.sock}"
log="${DOCKERD_LOG:-/var/log/cct-dockerd.log}"
pidfile="${DOCKERD_PIDFILE:-/var/run/docker.pid}"
wait_s="${DOCKERD_WAIT_SECONDS:-60}"

engine_ready() { DOCKER_HOST="$host" docker info >/dev/null 2>&1; }
server_version() { DOCKER_HOST="$host" docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'; }

if ! command -v docker >/dev/null 2>&1; then
  echo "start-dockerd: the docker CLI is not installed (Debian/Ubuntu: apt-get install -y docker.io)" >&2
  exit 1
fi

if engine_ready; then
  echo "start-dockerd: Docker Engine $(server_version) already answers at $host; nothing to do"
  exit 0
fi

case "$host" in
  unix://*) ;;
  *)
    echo "start-dockerd: no Engine answers at $host, and only a local unix socket can be started here" >&2
    exit 1
    ;;
esac
if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-dockerd: no Engine answers at $host and dockerd is not installed (apt-get install -y docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "start-dockerd: no Engine answers at $host and starting dockerd needs root (sudo, or start Docker yourself)" >&2
  exit 1
fi

pid=""
if [ -f "$pidfile" ]; then pid="$(cat "$pidfile" 2>/dev/null || true)"; fi
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  # Started by an earlier (or concurrent) run, or by the system, and still coming up: don't start a second one.
  echo "start-dockerd: dockerd (pid $pid, $pidfile) is running but not answering yet; waiting for it"
else
  rm -f "$pidfile" # a stale pid file stops dockerd from starting
  mkdir -p "$(dirname "$log")"
  # shellcheck disable=SC2086
  nohup setsid dockerd -H "$host" --pidfile "$pidfile" ${DOCKERD_ARGS:-} >>"$log" 2>&1 </dev/null &
  pid=$!
  echo "start-dockerd: started dockerd (pid $pid) for $host; log: $log"
fi

deadline=$(( $(date +%s) + wait_s ))
until engine_ready; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-dockerd: dockerd (pid $pid) exited; last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "start-dockerd: Docker Engine did not answer within ${wait_s}s; last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
  fi
  sleep 0.5
done
echo "start-dockerd: Docker Engine $(server_version) ready at $host (dockerd pid $pid); log: $log"
