"""The whole stack for end-to-end tests: gateway, ingest, transcriber and summarizer as real
subprocesses on a fresh migrated database, a unique broker namespace, one shared blob root
and a random free port; plus API keys, real speech and a place for artifacts.

Engines are the real defaults, kept cheap: Whisper ``tiny.en`` (greedy decoding, no
diarization) and the extractive summarizer, so the UI and the CLI show real words.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.media import dialogue
from tests.support.procs import ROOT, spawn, stop, wait_for_log

ARTIFACTS = ROOT / "tests" / "artifacts"
SERVICES = {"ingest": "INGEST_", "transcriber": "TRANSCRIBER_", "summarizer": "SUMMARIZER_"}

#: A short meeting with a decision and an action item, so the minutes have citations.
MEETING_TURNS = [
    ("en+m3", "Good morning everyone. Let us review the budget for the next quarter."),
    ("en-us+f3", "I think we should hire two more engineers before the summer."),
    ("en+m3", "Agreed. We decided to hire two engineers this quarter."),
    ("en-us+f3", "I will send the job description to the team by Friday."),
]


@dataclass
class Stack:
    """A running stack: where it answers, its keys, and the environment to reach it."""

    url: str
    key: str
    admin_key: str
    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of every service log (for assertion messages)."""
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stack_env(dsn: str, namespace: str, blob_root: Path, port: int) -> dict[str, str]:
    env = {
        "GATEWAY_DATABASE_URL": dsn,
        "GATEWAY_PORT": str(port),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_MIGRATE_ON_START": "false",
        # The browser's Origin for this port, so the UI's WebSocket feeds are allowed.
        "GATEWAY_ALLOWED_ORIGINS": json.dumps([f"http://127.0.0.1:{port}"]),
        "GATEWAY_DISPATCH_INTERVAL_S": "0.5",
        "TRANSCRIBER_WHISPER_MODEL": "tiny.en",
        "TRANSCRIBER_BEAM_SIZE": "1",
        "TRANSCRIBER_DIARIZE": "off",
        "TRANSCRIBER_CPU_THREADS": "2",
        "SUMMARIZER_ENGINE": "extractive",
    }
    for prefix in ("GATEWAY_", *SERVICES.values()):
        env[prefix + "NAMESPACE"] = namespace
        env[prefix + "BLOB_ROOT"] = str(blob_root)
        env[prefix + "LOG_JSON"] = "true"
        env[prefix + "SHUTDOWN_GRACE"] = "5"
    return env


def _gateway_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"gateway {args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


def _wait_ready(url: str, timeout: float = 60) -> None:
    """Until the gateway's database, broker and event feed are all up."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/readyz", timeout=5)
            if r.status_code == 200 and r.json().get("status") == "ok":
                return
            last = r.text
        except httpx.HTTPError as e:
            last = repr(e)
        time.sleep(0.5)
    raise AssertionError(f"the stack was not ready within {timeout}s: {last}")


def _spawn_all(stack: Stack) -> None:
    for module in ("gateway", *SERVICES):
        log = stack.logs / f"{module}.log"
        stack.procs[module] = spawn(module, stack.env, log=log)


def _wait_all(stack: Stack) -> None:
    for module in SERVICES:
        wait_for_log(stack.logs / f"{module}.log", "worker_consuming", timeout=120)
    _wait_ready(stack.url)


@pytest.fixture
async def stack(
    namespace: str,
    fresh_db: Callable[[], Awaitable[str]],
    blob_root: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    """The four services running against a fresh database; stopped (and logs kept) after."""
    dsn = await fresh_db()
    port = free_port()
    env = _stack_env(dsn, namespace, blob_root, port)
    await asyncio.to_thread(_gateway_cli, env, "migrate")
    logs = tmp_path / "logs"
    logs.mkdir()
    s = Stack(f"http://127.0.0.1:{port}", "", "", env, logs)
    try:
        _spawn_all(s)
        # Keys are made while the services start (the slow part is loading them).
        s.key, s.admin_key = await asyncio.gather(
            asyncio.to_thread(_gateway_cli, env, "keys", "create", "--tenant", "e2e"),
            asyncio.to_thread(_gateway_cli, env, "keys", "create", "--tenant", "ops", "--admin"),
        )
        await asyncio.to_thread(_wait_all, s)
        yield s
    finally:
        for proc in s.procs.values():  # all at once: each stops in parallel
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in s.procs.values():
            await asyncio.to_thread(stop, proc, 20)
        keep = ARTIFACTS / "logs" / re.sub(r"[^\w.-]+", "_", request.node.name)
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(logs, keep)


@pytest.fixture
def meeting_audio(tmp_path: Path) -> Path:
    """About 15 s of two-voice speech (espeak-ng) as a WAV file."""
    path = tmp_path / "budget-review.wav"
    dialogue(MEETING_TURNS, path)
    return path


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A directory under tests/artifacts/ for this test's screenshots and downloads."""
    path = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    path.mkdir(parents=True, exist_ok=True)
    return path
