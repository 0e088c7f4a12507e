"""The ``minuta`` command against the whole stack: submit and follow, exports, exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack
from tests.support.procs import ROOT

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

    wrong_key = minuta(stack, "list", key="mk_deadbeef_nope")
    assert wrong_key.returncode == 4
    assert "API key" in wrong_key.stderr
