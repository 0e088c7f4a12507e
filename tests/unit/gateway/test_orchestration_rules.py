"""Pure rules of the orchestrator: state machine, backoff, fair order, ETAs, jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from gateway.orchestrator.jobs import MissingInput, build_job
from gateway.orchestrator.queue import eta_s, fair_order, rtf_of, snapshot
from gateway.orchestrator.state import (
    allowed_before,
    backoff_s,
    next_stage,
    overall_progress,
    rerun_allowed,
    status_waiting_for,
)
from shared.messages import IngestJob, Stage, SummarizeJob, TranscribeJob

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_stages_chain_and_statuses() -> None:
    assert next_stage(Stage.INGEST) is Stage.TRANSCRIBE
    assert next_stage(Stage.SUMMARIZE) is None
    assert status_waiting_for(Stage.INGEST) == "queued"
    assert status_waiting_for(Stage.SUMMARIZE) == "summarizing"
    assert allowed_before(Stage.INGEST) == ("queued", "ingesting")
    assert rerun_allowed("completed")
    assert not rerun_allowed("cancelled")
    assert overall_progress("transcribing", "transcribe", 50) == 47.5
    assert overall_progress("completed", "summarize", 0) == 100


def test_backoff_grows_is_capped_and_respects_retry_after() -> None:
    assert [backoff_s(a, 5, 60) for a in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
    assert backoff_s(1, 5, 60, retry_after=30) == 30
    assert backoff_s(1, 5, 60, retry_after=999) == 60


def _item(tenant: object, minutes: int, priority: int = 0) -> dict[str, object]:
    return {
        "id": uuid4(),
        "tenant_id": tenant,
        "priority": priority,
        "created_at": T0 + timedelta(minutes=minutes),
        "stage": "ingest",
        "engine": None,
        "duration_s": 60.0,
    }


def test_fair_order_alternates_tenants_within_a_priority() -> None:
    a, b = uuid4(), uuid4()
    items = [_item(a, 0), _item(a, 1), _item(a, 2), _item(b, 3), _item(b, 4, priority=1)]
    order = fair_order(items, {})
    ids = {i["id"]: n for n, i in enumerate(items)}
    # b's urgent item first (b now has one "in flight"), then a0; tied again, the older head
    # (a1) goes before b3; then a2.
    assert [ids[x] for x in order] == [4, 0, 1, 3, 2]
    # A tenant with work already in flight waits behind one with none.
    assert [ids[x] for x in fair_order(items[:4], {a: 2})] == [3, 0, 1, 2]


def test_eta_grows_with_work_ahead_and_shrinks_with_workers() -> None:
    a = uuid4()
    items = [_item(a, i) for i in range(3)]
    snap = snapshot(items, [], {"ingest": 1}, {}, 600.0, T0)
    meeting = {"options": {}, "duration_s": 60.0, "progress": 0}
    etas = [eta_s(snap, meeting, i["id"], Stage.INGEST) for i in items]
    assert etas[0] < etas[1] < etas[2]
    fast = snapshot(items, [], {"ingest": 3}, {}, 600.0, T0)
    assert eta_s(fast, meeting, items[2]["id"], Stage.INGEST) < etas[2]
    assert rtf_of("transcribe", "noop", {}) < rtf_of("transcribe", None, {})
    assert rtf_of("transcribe", "whisper", {("transcribe", "whisper"): 0.5}) == 0.5


def _meeting(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": uuid4(),
        "options": {"language": "de", "template": "brief", "transcribe_engine": "noop"},
        "source_kind": "upload",
        "source": "meetings/x/original",
        "audio_key": None,
        "duration_s": None,
        "artifacts": {},
        "speaker_names": {"S1": "Ann"},
    }
    base.update(kw)
    return base


def test_jobs_carry_the_meeting_options() -> None:
    d = {"id": uuid4(), "attempt": 2, "stage": "ingest"}
    job = build_job(_meeting(), d, 100)
    assert isinstance(job, IngestJob)
    assert job.source_key == "meetings/x/original"
    assert job.attempt == 2
    with pytest.raises(MissingInput):
        build_job(_meeting(), {**d, "stage": "transcribe"}, 100)
    t = build_job(_meeting(audio_key="a.flac", duration_s=9.0), {**d, "stage": "transcribe"}, 100)
    assert isinstance(t, TranscribeJob)
    assert (t.language, t.engine, t.duration_s) == ("de", "noop", 9.0)
    s = build_job(_meeting(artifacts={"transcript_key": "t.json"}), {**d, "stage": "summarize"}, 1)
    assert isinstance(s, SummarizeJob)
    assert (s.template, s.speaker_names) == ("brief", {"S1": "Ann"})
