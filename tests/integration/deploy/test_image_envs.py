"""Each image's Python environment, built the way its Dockerfile builds it, runs its service.

No Docker engine here, so the Dockerfile's own ``uv sync`` lines are run (with the same
flags) into a fresh virtualenv, and the image's command module is imported from it. This
catches a service that imports a library it does not declare (it would work in the dev
workspace, where every package is installed, and crash in its image).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import dockerfile
import pytest

from tests.unit.deploy.promql_exprs import REPO

pytestmark = pytest.mark.skipif(shutil.which("uv") is None, reason="uv not on PATH")
SERVICES = ("gateway", "ingest", "transcriber", "summarizer")


def _sync_steps(svc: str) -> list[str]:
    """The Dockerfile's last service ``uv sync`` and its S3-extra step, as shell commands."""
    runs = [
        " ".join(c.value)
        for c in dockerfile.parse_file(str(REPO / "services" / svc / "Dockerfile"))
        if c.cmd == "RUN" and "uv sync" in " ".join(c.value)
    ]
    service = [r for r in runs if f"--package minuta-{svc}" in r]
    s3 = [r for r in runs if "--extra s3" in r]
    assert len(s3) == 1, "the Dockerfile adds shared's s3 extra once"
    return [service[-1], s3[0]]


def _build_venv(svc: str, venv: Path) -> dict[str, str]:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    for step in _sync_steps(svc):
        done = subprocess.run(
            ["sh", "-c", step],
            cwd=REPO,
            env={**env, "WITH_S3": "1", "UV_OFFLINE": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{step}\n{done.stderr}"
    return env


@pytest.mark.parametrize("svc", SERVICES)
def test_image_environment_runs_the_service(svc: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = _build_venv(svc, venv)
    # Imported from the image's venv alone: no PYTHONPATH, not from the source tree.
    run = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            f"import {svc}.__main__, {svc}; print({svc}.__file__)",
        ],
        cwd=tmp_path,
        env={k: v for k, v in env.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert str(venv) in run.stdout, "the package must be installed (non-editable) in the venv"
    s3 = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import aiobotocore.session"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert s3.returncode == 0, f"the image cannot use BLOB_BACKEND=s3: {s3.stderr}"
    dev_only = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import pytest"], capture_output=True, timeout=60
    )
    assert dev_only.returncode != 0, "dev dependencies leaked into the image environment"


@pytest.mark.integration
async def test_gateway_image_migrates_a_fresh_database(
    tmp_path: Path, fresh_db: Callable[[], Awaitable[str]]
) -> None:
    """What compose's one-shot ``migrate`` service runs, from the image's environment."""
    venv = tmp_path / "venv"
    env = await asyncio.to_thread(_build_venv, "gateway", venv)
    env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    dsn = env["GATEWAY_DATABASE_URL"] = await fresh_db()
    run = await asyncio.to_thread(
        subprocess.run,
        [str(venv / "bin" / "python"), "-m", "gateway", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "migrations applied" in run.stdout
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await conn.close()
