"""The README's main command, run by the suite: `scripts/demo.sh` (what `make demo` ends with)
starts the stack, processes the shipped sample meeting, prints its progress, transcript and
minutes; running it again is safe. Only the model is the fast one (tiny.en), the rest is as a
user gets it, on its own port, database, broker namespace and state directory.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port
from tests.support.procs import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture
async def demo_env(
    fresh_db: Callable[[], Awaitable[str]], namespace: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "MINUTA_PORT": str(port),
        "MINUTA_VAR": str(tmp_path / "var"),
        "MINUTA_NAMESPACE": namespace,
        "MINUTA_METRICS_BASE": str(free_port()),
        "GATEWAY_DATABASE_URL": await fresh_db(),
        "TRANSCRIBER_WHISPER_MODEL": "tiny.en",
        "NO_COLOR": "1",
        "COLUMNS": "120",
    }
    yield env
    subprocess.run(
        ["bash", "scripts/demo.sh", "stop"],
        cwd=ROOT,
        env=env,
        timeout=60,
        capture_output=True,
        check=False,
    )


def _demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        timeout=600,
        capture_output=True,
        text=True,
        check=False,
    )


def _rename_speakers_end_to_end(env: dict[str, str]) -> None:
    """Users rename diarized speakers; names reach exports and minutes with no engine re-run."""
    key = (Path(env["MINUTA_VAR"]) / "demo.key").read_text().strip()
    base = f"http://127.0.0.1:{env['MINUTA_PORT']}"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as http:
        mid = http.get("/v1/meetings", params={"limit": 1}).json()["items"][0]["id"]
        before = http.get(f"/v1/meetings/{mid}/events").json()["items"]
        r = http.patch(f"/v1/meetings/{mid}/speakers", json={"S1": "Daniel", "S2": "Maria"})
        assert r.status_code < 300, r.text
        txt = http.get(f"/v1/meetings/{mid}/transcript", params={"format": "txt"}).text
        vtt = http.get(f"/v1/meetings/{mid}/transcript", params={"format": "vtt"}).text
        md = http.get(f"/v1/meetings/{mid}/minutes", params={"format": "md"}).text
        after = http.get(f"/v1/meetings/{mid}/events").json()["items"]
    assert "Daniel: Good morning everyone" in txt
    assert "Maria:" in txt
    assert "<v Daniel>" in vtt
    assert "S1" not in txt
    assert "Daniel" in md or "Maria" in md, md
    new_types = [e["type"] for e in after[len(before) :]]
    assert new_types == ["speakers.renamed"], "renaming must not re-run any stage"


def test_main_command_prints_transcript_and_minutes_and_is_safe_to_rerun(
    demo_env: dict[str, str],
) -> None:
    first = _demo(demo_env)
    var = Path(demo_env["MINUTA_VAR"])
    logs = "\n".join(p.read_text()[-2000:] for p in (var / "log").glob("*.log"))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:] + logs
    out = first.stdout.lower()
    # the transcript: words of the sample meeting, with speakers found by diarization
    for words in ("weekly planning meeting", "pricing page", "transcriber replica"):
        assert words in out, first.stdout
    assert "s1" in out, "no speaker labels in the transcript"
    assert "s2" in out, "only one speaker found"
    # the minutes: the decisions and action items stated in the meeting, with citations
    assert "decisions" in out, first.stdout
    assert "action items" in out, first.stdout
    assert "split long recordings at silences" in out
    assert "[0:" in first.stdout  # citations and timestamps
    assert "web ui: http://127.0.0.1:" in first.stderr.lower()
    # progress was shown while it ran
    assert "submitted" in first.stderr.lower()

    _rename_speakers_end_to_end(demo_env)

    second = _demo(demo_env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "already running" in second.stderr
    assert "weekly planning meeting" in second.stdout.lower()
