#!/usr/bin/env bash
# The main command's last step: run the stack locally, process the sample meeting, print the
# transcript and minutes. `scripts/demo.sh stop` stops the stack. Safe to run again: running
# services are reused, the database is migrated idempotently, the demo key is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${MINUTA_PORT:-8000}
VAR=${MINUTA_VAR:-var}  # pid files, logs, blobs and the demo key live here
RUN=$VAR/run
LOGS=$VAR/log
PY=.venv/bin/python
export GATEWAY_DATABASE_URL=${GATEWAY_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/minuta}
export GATEWAY_PORT=$PORT
export MINUTA_URL=http://127.0.0.1:$PORT
NS=${MINUTA_NAMESPACE:-minuta}
for svc in GATEWAY INGEST TRANSCRIBER SUMMARIZER; do
  export "${svc}_NAMESPACE=$NS" "${svc}_BLOB_ROOT=$VAR/blobs"
done
METRICS_BASE=${MINUTA_METRICS_BASE:-9100}
mkdir -p "$RUN" "$LOGS" "$VAR/blobs"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  for svc in gateway ingest transcriber summarizer; do
    if alive "$svc"; then kill -TERM "$(cat "$RUN/$svc.pid")" && say "stopped $svc"; fi
    rm -f "$RUN/$svc.pid"
  done
  exit 0
fi

start() {  # start NAME [ENV=VALUE ...]: python -m NAME in the background, unless running
  local svc=$1; shift
  if alive "$svc"; then say "$svc already running (pid $(cat "$RUN/$svc.pid"))"; return; fi
  env "$@" nohup "$PY" -m "$svc" >>"$LOGS/$svc.log" 2>&1 &
  echo $! >"$RUN/$svc.pid"
  say "started $svc (pid $!, log $LOGS/$svc.log)"
}

db=${GATEWAY_DATABASE_URL##*/}
if ! psql "${GATEWAY_DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
  say "creating database $db"
  psql "${GATEWAY_DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db\""
fi
say "migrating the database"
"$PY" -m gateway migrate

start gateway
start ingest INGEST_METRICS_PORT=$((METRICS_BASE + 1))
start transcriber TRANSCRIBER_METRICS_PORT=$((METRICS_BASE + 2))
start summarizer SUMMARIZER_METRICS_PORT=$((METRICS_BASE + 3))

say "waiting for the gateway at $MINUTA_URL"
for _ in $(seq 120); do
  curl -fsS "$MINUTA_URL/healthz" >/dev/null 2>&1 && break
  alive gateway || { tail -n 30 "$LOGS/gateway.log"; exit 1; }
  sleep 0.5
done

if [ ! -s "$VAR/demo.key" ]; then
  "$PY" -m gateway keys create --tenant demo | tail -n 1 >"$VAR/demo.key"
fi
export MINUTA_API_KEY
MINUTA_API_KEY=$(cat "$VAR/demo.key")

say "submitting samples/meeting.flac; live progress follows, then the minutes"
.venv/bin/minuta submit samples/meeting.flac --title "Launch planning (sample meeting)" --follow
id=$(.venv/bin/minuta list --limit 1 --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
say "transcript of $id"
.venv/bin/minuta transcript "$id" --format txt
say "web UI: $MINUTA_URL/  (sign in with the API key in $VAR/demo.key)"
say "the stack keeps running; stop it with: scripts/demo.sh stop"
