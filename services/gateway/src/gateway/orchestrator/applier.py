"""Applying one worker event: dedupe, accept only the current dispatch, advance the state
machine with guarded updates, all in one transaction (the caller acks after commit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from shared.messages import (
    Event,
    IngestCompleted,
    MinutesCompleted,
    SegmentTranscribed,
    Stage,
    StageCancelled,
    StageEvent,
    StageFailed,
    StageHeartbeat,
    StageProgress,
    StageStarted,
    TranscriptCompleted,
)

from gateway import metrics
from gateway.db import Conn
from gateway.orchestrator.core import Orchestrator
from gateway.orchestrator.state import FINAL, allowed_before, backoff_s, next_stage, status_running
from gateway.repository import dispatches, events, meetings, stats
from gateway.repository._util import NOW

log = structlog.get_logger("gateway.applier")
_COMMON = {
    "event_id",
    "job_id",
    "dispatch_id",
    "stage",
    "seq",
    "type",
    "occurred_at",
    "schema_version",
}


def event_data(event: StageEvent) -> dict[str, Any]:
    """The event-specific fields of a worker event, as stored in the log."""
    return {k: v for k, v in event.model_dump(mode="json").items() if k not in _COMMON}


async def apply_event(orch: Orchestrator, event: Event) -> str:
    """Apply one event in its own transaction; returns what happened (see ``apply_in``)."""
    try:
        async with orch.pool.acquire() as conn, conn.transaction():
            return await apply_in(orch, conn, event)
    except asyncpg.UniqueViolationError:
        # The same event committed by a concurrent transaction after our duplicate check
        # read its snapshot: once more, and the check sees it.
        async with orch.pool.acquire() as conn, conn.transaction():
            return await apply_in(orch, conn, event)


async def apply_batch(orch: Orchestrator, batch: Sequence[Event]) -> list[str]:
    """Apply events in order in ONE transaction (one commit, one round of NOTIFYs).

    The meetings are locked up front in id order, before any tenant row: every other
    transaction locks a meeting before its tenant, so batches cannot deadlock with them or
    with each other. If any event raises, the whole batch rolls back (the caller then
    applies its events one by one).
    """
    ids = sorted({e.job_id for e in batch})
    async with orch.pool.acquire() as conn, conn.transaction():
        await meetings.lock_many(conn, ids)
        with events.deferred_notifications() as notes:
            outcomes = [await apply_in(orch, conn, event) for event in batch]
            await events.flush_notifications(conn, notes)
    return outcomes


async def apply_in(orch: Orchestrator, conn: Conn, event: Event) -> str:
    """Apply one event inside the caller's transaction.

    Returns what happened: applied, duplicate, stale, heartbeat or unknown.
    """
    m, duplicate, d = await meetings.lock_for_event(
        conn, event.job_id, event.event_id, event.dispatch_id
    )
    if m is None:
        return "unknown"
    if isinstance(event, StageHeartbeat):
        if m["current_dispatch_id"] == event.dispatch_id:
            await dispatches.update(
                conn, event.dispatch_id, expect=("dispatched",), heartbeat_at=NOW
            )
        return "heartbeat"
    if duplicate:
        return "duplicate"
    if (
        m["current_dispatch_id"] != event.dispatch_id
        or d is None
        or d["state"] != "dispatched"
        or d["stage"] != event.stage.value
        or m["status"] in FINAL
    ):
        return "stale"
    await _mark_running(conn, m, d, event)
    await _apply(orch, conn, m, d, event)
    return "applied"


async def _mark_running(
    conn: Conn, m: dict[str, Any], d: dict[str, Any], event: StageEvent
) -> None:
    """Any event of the current dispatch proves it started (events may arrive out of order)."""
    fields: dict[str, Any] = {"heartbeat_at": NOW}
    if d["started_at"] is None:
        fields["started_at"] = event.occurred_at
        d["started_at"] = event.occurred_at
    await dispatches.update(conn, d["id"], **fields)
    running = status_running(event.stage)
    if m["status"] != running and await meetings.update(
        conn, m["id"], expect=allowed_before(event.stage), status=running
    ):
        m["status"] = running


async def _apply(
    orch: Orchestrator, conn: Conn, m: dict[str, Any], d: dict[str, Any], event: Event
) -> None:
    rec = {
        "status": m["status"],
        "stage": event.stage.value,
        "dispatch_id": event.dispatch_id,
        "occurred_at": event.occurred_at,
        "event_id": event.event_id,
    }
    if isinstance(event, StageStarted):
        data = {**event_data(event), "attempt": d["attempt"]}
        await orch.record(conn, m, event.type, data=data, **rec)
    elif isinstance(event, StageProgress):
        if event.percent is not None and event.percent > float(m["progress"]):
            await meetings.update(conn, m["id"], progress=event.percent)
            m["progress"] = event.percent
        await orch.record(conn, m, event.type, data=event_data(event), **rec)
    elif isinstance(event, SegmentTranscribed):
        await orch.record(conn, m, event.type, data=event_data(event), **rec)
    elif isinstance(event, IngestCompleted | TranscriptCompleted | MinutesCompleted):
        await _completed(orch, conn, m, d, event, rec)
    elif isinstance(event, StageFailed):
        await _failed(orch, conn, m, d, event, rec)
    elif isinstance(event, StageCancelled):
        await dispatches.update(conn, d["id"], state="cancelled", finished_at=NOW)
        await orch.record(conn, m, event.type, data=event_data(event), **rec)
        await orch.finish(conn, m, "cancelled", stage=event.stage.value)


async def _completed(
    orch: Orchestrator,
    conn: Conn,
    m: dict[str, Any],
    d: dict[str, Any],
    event: IngestCompleted | TranscriptCompleted | MinutesCompleted,
    rec: dict[str, Any],
) -> None:
    await dispatches.update(conn, d["id"], state="done", finished_at=NOW)
    artifacts = dict(m["artifacts"])
    fields: dict[str, Any] = {}
    if isinstance(event, IngestCompleted):
        artifacts["audio_key"] = event.audio_key
        fields.update(audio_key=event.audio_key, duration_s=event.duration_s)
        m.update(audio_key=event.audio_key, duration_s=event.duration_s)
    elif isinstance(event, TranscriptCompleted):
        artifacts.update(
            transcript_key=event.transcript_key, language=event.language, speakers=event.speakers
        )
    else:
        artifacts["minutes_key"] = event.minutes_key
    fields["artifacts"] = artifacts
    m["artifacts"] = artifacts
    await meetings.update(conn, m["id"], **fields)
    await orch.record(conn, m, event.type, data=event_data(event), **rec)
    await _observe_speed(conn, m, d, event)
    following = next_stage(event.stage)
    if following is not None:
        await orch.enqueue_stage(conn, m, following)
    elif await orch.finish(conn, m, "completed", stage=event.stage.value):
        _observe_eta(m)


async def _failed(
    orch: Orchestrator,
    conn: Conn,
    m: dict[str, Any],
    d: dict[str, Any],
    event: StageFailed,
    rec: dict[str, Any],
) -> None:
    await dispatches.update(conn, d["id"], state="failed", finished_at=NOW, error=event.reason)
    data = {**event_data(event), "attempt": d["attempt"]}
    await orch.record(conn, m, event.type, data=data, **rec)
    s = orch.settings
    if event.retryable and d["attempt"] < s.max_attempts:
        delay = backoff_s(d["attempt"], s.backoff_base_s, s.backoff_max_s, event.retry_after)
        await orch.enqueue_stage(
            conn, m, event.stage, attempt=d["attempt"] + 1, delay_s=delay, status=m["status"]
        )
        return
    reason = event.reason
    if event.retryable:
        reason = f"{reason} (gave up after {d['attempt']} attempts)"
    await orch.finish(conn, m, "failed", stage=event.stage.value, code=event.code, reason=reason)


async def _observe_speed(
    conn: Conn, m: dict[str, Any], d: dict[str, Any], event: StageEvent
) -> None:
    started = d["started_at"]
    seconds = max(0.0, (event.occurred_at - started).total_seconds()) if started else None
    engine = getattr(event, "engine", "") or d["engine"] or "unknown"
    if seconds is not None:
        metrics.STAGE_DURATION.labels(event.stage.value, engine).observe(seconds)
    rtf = getattr(event, "realtime_factor", None)
    duration = m["duration_s"]
    if rtf is None and seconds is not None and duration:
        rtf = seconds / duration
    if rtf is not None and rtf > 0:
        await stats.observe_rtf(conn, event.stage.value, engine, float(rtf))


def _observe_eta(m: dict[str, Any]) -> None:
    predicted = m.get("predicted_finish_at")
    if predicted is None:
        return
    created: datetime = m["created_at"]
    actual = (datetime.now(UTC) - created).total_seconds()
    if actual > 0:
        guess = (predicted - created).total_seconds()
        metrics.ETA_ERROR.observe(abs(guess - actual) / actual)


__all__ = ["Stage", "apply_batch", "apply_event", "apply_in", "event_data"]
