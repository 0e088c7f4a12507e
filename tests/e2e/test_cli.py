"""The ``minuta`` command against the whole stack: submit and follow, exports, exit codes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, free_port
from tests.support.procs import ROOT, wait_for_log

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SRT_CUE = re.compile(
    r"^(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)$", re.MULTILINE
)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def minuta(
    stack: Stack, *args: str, key: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the real console script as a user would."""
    env = {**os.environ, "MINUTA_URL": stack.url, "MINUTA_API_KEY": key or stack.key}
    return subprocess.run(
        [sys.executable, "-m", "minuta_cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _seconds(stamp: str) -> float:
    h, m, rest = stamp.split(":")
    s, ms = rest.split(",")
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def test_submit_follow_then_exports_and_exit_codes(stack: Stack, meeting_audio: Path) -> None:
    done = minuta(stack, "submit", str(meeting_audio), "--follow", "--title", "Budget review",
                  timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr + stack.log_tail()
    # stdout is the Markdown minutes, with the words that were spoken.
    assert done.stdout.startswith("# ")
    assert "## Summary" in done.stdout
    assert re.search(r"engineers?", done.stdout, re.IGNORECASE)
    found = UUID_RE.search(done.stderr)
    assert found, done.stderr
    meeting_id = found.group(0)

    srt = minuta(stack, "transcript", meeting_id, "--format", "srt")
    assert srt.returncode == 0, srt.stderr
    cues = SRT_CUE.findall(srt.stdout)
    assert cues, srt.stdout
    assert [int(c[0]) for c in cues] == list(range(1, len(cues) + 1))
    assert all(_seconds(start) <= _seconds(end) for _, start, end, _ in cues)
    assert "budget" in srt.stdout.lower()

    status = minuta(stack, "status", meeting_id)
    assert status.returncode == 0
    assert "Completed" in status.stdout

    missing = minuta(stack, "status", str(uuid.uuid4()))
    assert missing.returncode == 3
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr
    assert minuta(stack, "transcript", "not-a-meeting", "--format", "srt").returncode in (2, 3)

    not_audio = meeting_audio.with_name("notes.wav")
    not_audio.write_bytes(b"these are meeting notes, not a recording\n" * 50)
    failed = minuta(stack, "submit", str(not_audio), "--follow", timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert "failed" in failed.stderr
    assert failed.stdout.strip() == ""  # no minutes for a meeting that failed

    wrong_key = minuta(stack, "list", key="mk_deadbeef_nope")
    assert wrong_key.returncode == 4
    assert "API key" in wrong_key.stderr


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_up_runs_the_stack_and_ctrl_c_stops_it(
    namespace: str,
    fresh_db: Callable[[], Awaitable[str]],
    blob_root: Path,
    tmp_path: Path,
    meeting_audio: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": await fresh_db(),
        "GATEWAY_PORT": str(port),
        "TRANSCRIBER_WHISPER_MODEL": "tiny.en",
        "TRANSCRIBER_DIARIZE": "off",
    }
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "minuta_cli", "up", "--namespace", namespace,
             "--blob-root", str(blob_root), "--grace", "10"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        for service in ("ingest", "transcriber", "summarizer"):
            await asyncio.to_thread(wait_for_log, log, f"{service:<11} | ", 120)
            await asyncio.to_thread(wait_for_log, log, "worker_consuming", 120)
        await asyncio.to_thread(wait_for_log, log, "gateway_started", 120)
        children = _children(up.pid)
        assert len(children) == 4, log.read_text()[-3000:]

        key = _gateway_key(env)
        stack = Stack(f"http://127.0.0.1:{port}", key, key, {}, tmp_path)
        done = await asyncio.to_thread(
            minuta, stack, "submit", str(meeting_audio), "--follow",
            "--engine", "noop", "--summarize-engine", "noop", timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr + log.read_text()[-3000:]
    finally:
        up.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        code = await asyncio.to_thread(up.wait, 60)
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert "stack stopped" in output
    assert not [pid for pid in children if _alive(pid)]
    prefixed = [line for line in output.splitlines() if " | " in line]
    assert {line.split(" | ")[0].strip() for line in prefixed} >= {
        "gateway", "ingest", "transcriber", "summarizer"
    }  # fmt: skip


def _gateway_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "minuta_cli", "keys", "create", "--tenant", "up"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]
