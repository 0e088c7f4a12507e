#!/usr/bin/env bash
# The test command: install everything, provision the offline models, run lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/provision.sh
echo "==> ruff" >&2
uv run ruff check .
uv run ruff format --check .
echo "==> mypy (strict)" >&2
uv run mypy
echo "==> pytest" >&2
uv run pytest "$@"
