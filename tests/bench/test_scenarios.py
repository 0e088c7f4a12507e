"""Every benchmark scenario once at a tiny size: the harness still works and what it
measures is correct (every meeting completed, no event missing). Timings are recorded by
``make bench``, never asserted here."""

from __future__ import annotations

from typing import Any

import pytest

from bench.scenarios import audio, backlog, eta, fanout, orchestration
from bench.sizes import TINY

pytestmark = pytest.mark.integration


def _figures_present(result: dict[str, Any]) -> None:
    for goal in result["goals"]:
        assert goal["value"] is not None, f"{goal['metric']} was not measured"


async def test_orchestration_every_meeting_completes_and_no_event_is_missed() -> None:
    out = await orchestration.run(TINY)
    s1, s3 = out["1"], out["3"]
    checks = s1["checks"]
    assert checks["statuses"] == {"completed": TINY.meetings}
    assert checks["missing"] == 0
    assert checks["duplicates"] == 0
    assert checks["meetings_with_seq_gaps"] == 0
    assert s1["figures"]["submit_errors"] == 0
    assert s1["figures"]["idle"]["e2e_ms"]["n"] == TINY.idle_runs
    assert s3["figures"]["all_ms"]["n"] > 0
    _figures_present(s1)
    _figures_present(s3)


async def test_backlog_drains_and_reads_of_queued_meetings_succeed() -> None:
    s2 = (await backlog.run(TINY))["2"]
    for per in s2["figures"]["per_backlog"]:
        assert per["complete"], per
        assert per["read_status_codes"] == [200]
        assert per["submit_errors"] == 0
        assert per["sample_meeting"]["status"] == "queued"
        assert per["sample_meeting"]["queue_position"] is not None
    _figures_present(s2)


async def test_fanout_reaches_every_subscriber_despite_a_stalled_one() -> None:
    s4 = (await fanout.run(TINY))["4"]
    assert s4["checks"]["subscribers_missing_events"] == 0
    assert len(s4["figures"]["stalled"]) == TINY.stalled
    assert s4["figures"]["deliveries"] > 0
    _figures_present(s4)


async def test_real_audio_completes_through_the_pipeline() -> None:
    s5 = (await audio.run(TINY))["5"]
    assert s5["checks"]["ok"], s5["figures"]
    assert s5["figures"]["direct"]["tiny.en"]["words"] > 0
    _figures_present(s5)


async def test_eta_is_given_and_every_meeting_completes() -> None:
    s6 = (await eta.run(TINY))["6"]
    assert s6["checks"]["ok"], s6["figures"]
    assert all(m["status"] == "completed" for m in s6["figures"]["meetings"])
    _figures_present(s6)
