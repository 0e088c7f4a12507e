#!/usr/bin/env bash
# Install everything Minuta needs on a fresh Debian 12 machine and make sure the local
# PostgreSQL and RabbitMQ are up. Safe to run again: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- system packages (test speech, media tools, browser for UI tests, promtool) ------------
need_apt=()
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v sox >/dev/null || need_apt+=(sox libsox-fmt-all)
if [ "${MINUTA_WITH_BROWSER:-1}" = 1 ]; then
  command -v chromium >/dev/null || need_apt+=(chromium)
fi
if [ "${MINUTA_WITH_PROMETHEUS:-1}" = 1 ]; then
  command -v promtool >/dev/null || need_apt+=(prometheus)
fi
# Compose files are validated with `docker compose config`; Debian's docker CLI has no compose
# plugin, so the tests use the standalone docker-compose (no engine is needed to parse).
if ! docker compose version >/dev/null 2>&1; then
  command -v docker-compose >/dev/null || need_apt+=(docker-compose)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing system packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian's prometheus package starts a server on :9090; tests run their own.
  if printf '%s\n' "${need_apt[@]}" | grep -qx prometheus; then
    (systemctl stop prometheus 2>/dev/null || pkill -x prometheus || true) >/dev/null 2>&1
  fi
fi

# --- Python toolchain -------------------------------------------------------------------------
UV_VERSION=0.13.9
if ! command -v uv >/dev/null || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  log "installing uv $UV_VERSION"
  python3 -m pip install -q "uv==$UV_VERSION"
fi
log "syncing the workspace (uv sync --frozen)"
uv sync --frozen --quiet

# --- local services ---------------------------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  log "starting RabbitMQ"
  rabbitmq-server -detached
  timeout 120 rabbitmqctl await_startup >/dev/null
fi
rabbitmqctl -q start_app >/dev/null 2>&1 || true
# Stages may run up to 2 h: the broker must not close a consumer holding an unacked job
# sooner. On RabbitMQ 3.10 consumer_timeout is node-wide only; 3 h, in milliseconds.
rabbitmqctl -q eval 'application:set_env(rabbit, consumer_timeout, 10800000).' >/dev/null
log "PostgreSQL and RabbitMQ are up"
