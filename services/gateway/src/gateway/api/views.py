"""JSON views of meetings: status, position, ETA, per-stage timings, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.messages import Stage

from gateway.db import Conn
from gateway.deps import Deps
from gateway.orchestrator.queue import QueueSnapshot, eta_s, snapshot
from gateway.orchestrator.state import FINAL, overall_progress
from gateway.repository import dispatches, stats


async def queue_snapshot(
    deps: Deps, conn: Conn, meetings: list[dict[str, Any]] | None = None
) -> QueueSnapshot:
    """The backlog order and work ahead, for positions and ETAs.

    With ``meetings``, only the stages those meetings wait in are simulated (a large
    backlog then costs only the reads that matter).
    """
    stages: set[str | None] = {None}
    if meetings is not None:
        stages = {m["stage"] for m in meetings if m["status"] not in FINAL and m["stage"]}
    pending: list[dict[str, Any]] = []
    inflight: list[dict[str, Any]] = []
    for stage in stages:
        pending += await dispatches.pending(conn, stage)
        inflight += await dispatches.inflight(conn, stage)
    return snapshot(
        pending,
        inflight,
        deps.dispatcher.consumers,
        await stats.all_rtf(conn),
        deps.settings.default_audio_seconds,
        datetime.now(UTC),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def stage_timings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per dispatch (attempts included): waits, run times, errors."""
    out = []
    for d in rows:
        start, end = d["started_at"], d["finished_at"]
        out.append(
            {
                "stage": d["stage"],
                "attempt": d["attempt"],
                "state": d["state"],
                "engine": d["engine"],
                "queued_at": _iso(d["created_at"]),
                "dispatched_at": _iso(d["dispatched_at"]),
                "started_at": _iso(start),
                "finished_at": _iso(end),
                "wait_seconds": round((start - d["created_at"]).total_seconds(), 3)
                if start
                else None,
                "run_seconds": round((end - start).total_seconds(), 3) if start and end else None,
                "error": d["error"],
            }
        )
    return out


def meeting_view(
    m: dict[str, Any], snap: QueueSnapshot | None, timings: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What clients see of a meeting."""
    position = eta = None
    if snap is not None and m["status"] not in FINAL and m["stage"]:
        position = snap.positions.get(m["current_dispatch_id"])
        eta = eta_s(snap, m, m["current_dispatch_id"], Stage(m["stage"]))
    artifacts = m["artifacts"] or {}
    view: dict[str, Any] = {
        "id": str(m["id"]),
        "title": m["title"],
        "status": m["status"],
        "stage": m["stage"],
        "progress": round(float(m["progress"]), 1),
        "overall_progress": overall_progress(m["status"], m["stage"], float(m["progress"])),
        "queue_position": position,
        "eta_seconds": eta,
        "priority": m["priority"],
        "options": m["options"],
        "source": {
            "kind": m["source_kind"],
            "url": m["source"] if m["source_kind"] == "url" else None,
            "size": m["source_size"],
        },
        "duration_seconds": m["duration_s"],
        "language": artifacts.get("language"),
        "available": {
            "audio": bool(m["audio_key"]),
            "transcript": bool(artifacts.get("transcript_key")),
            "minutes": bool(artifacts.get("minutes_key")),
        },
        "speakers": artifacts.get("speakers") or [],
        "speaker_names": m["speaker_names"],
        "error": None,
        "created_at": _iso(m["created_at"]),
        "updated_at": _iso(m["updated_at"]),
        "finished_at": _iso(m["finished_at"]),
        "last_seq": m["last_seq"],
    }
    if m["error_reason"]:
        view["error"] = {
            "stage": m["error_stage"],
            "code": m["error_code"],
            "reason": m["error_reason"],
        }
    if timings is not None:
        view["stages"] = stage_timings(timings)
    return view
