"""Dispatches: the backlog (pending rows), in-flight work, and what the sweeper looks for."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from gateway.db import Conn, row, rows
from gateway.repository._util import set_clause

_UPDATABLE = (
    "state",
    "not_before",
    "dispatched_at",
    "started_at",
    "heartbeat_at",
    "finished_at",
    "error",
    "priority",
)

# The dispatch order: priority, then the tenant with the fewest jobs in flight on this
# stage, then age. Queue positions are computed from the same order (orchestrator.queue).
_CLAIM = """
SELECT d.id FROM dispatches d
LEFT JOIN (SELECT tenant_id, count(*) AS n FROM dispatches
           WHERE stage = $1 AND state = 'dispatched' GROUP BY tenant_id) f
       ON f.tenant_id = d.tenant_id
WHERE d.stage = $1 AND d.state = 'pending' AND d.not_before <= now()
ORDER BY d.priority DESC, COALESCE(f.n, 0) ASC, d.created_at ASC, d.id ASC
LIMIT 1 FOR UPDATE OF d SKIP LOCKED
"""


async def insert(
    conn: Conn,
    *,
    meeting_id: UUID,
    tenant_id: UUID,
    stage: str,
    attempt: int = 1,
    priority: int = 0,
    engine: str | None = None,
    delay_s: float = 0.0,
    state: str = "pending",
) -> UUID:
    """A new dispatch; ``pending`` ones form the backlog."""
    dispatch_id = uuid4()
    await conn.execute(
        """INSERT INTO dispatches (id, meeting_id, tenant_id, stage, attempt, priority, engine,
               state, not_before, dispatched_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9),
               CASE WHEN $8 = 'dispatched' THEN now() END)""",
        dispatch_id,
        meeting_id,
        tenant_id,
        stage,
        attempt,
        priority,
        engine,
        state,
        delay_s,
    )
    return dispatch_id


async def get(conn: Conn, dispatch_id: UUID) -> dict[str, Any] | None:
    """One dispatch."""
    return row(await conn.fetchrow("SELECT * FROM dispatches WHERE id = $1", dispatch_id))


async def update(
    conn: Conn, dispatch_id: UUID, *, expect: tuple[str, ...] | None = None, **fields: Any
) -> bool:
    """Guarded update of a dispatch; True if applied."""
    clause, values = set_clause(fields, _UPDATABLE, 2)
    sql = f"UPDATE dispatches SET {clause} WHERE id = $1"  # noqa: S608
    args: list[Any] = [dispatch_id, *values]
    if expect is not None:
        args.append(list(expect))
        sql += f" AND state = ANY(${len(args)}::text[])"
    return (await conn.execute(sql, *args)).endswith(" 1")


async def cancel_open(conn: Conn, meeting_id: UUID, state: str = "cancelled") -> None:
    """End every pending or dispatched dispatch of a meeting."""
    await conn.execute(
        """UPDATE dispatches SET state = $2, finished_at = now()
           WHERE meeting_id = $1 AND state IN ('pending', 'dispatched')""",
        meeting_id,
        state,
    )


async def inflight_count(conn: Conn, stage: str) -> int:
    """Dispatched and not finished, for one stage."""
    n = await conn.fetchval(
        "SELECT count(*) FROM dispatches WHERE stage = $1 AND state = 'dispatched'", stage
    )
    return int(n or 0)


async def try_stage_lock(conn: Conn, stage: str) -> bool:
    """One gateway at a time dispatches a stage (transaction-scoped advisory lock)."""
    got = await conn.fetchval(
        "SELECT pg_try_advisory_xact_lock(hashtext('dispatch:' || $1))", stage
    )
    return bool(got)


async def claim_next(conn: Conn, stage: str) -> dict[str, Any] | None:
    """Take the next due pending dispatch of a stage and mark it dispatched."""
    rec = await conn.fetchrow(_CLAIM, stage)
    if rec is None:
        return None
    return row(
        await conn.fetchrow(
            """UPDATE dispatches SET state = 'dispatched', dispatched_at = now()
               WHERE id = $1 RETURNING *""",
            rec["id"],
        )
    )


async def pending(conn: Conn, stage: str | None = None) -> list[dict[str, Any]]:
    """The backlog (oldest first) with each meeting's audio duration and engine."""
    return rows(
        await conn.fetch(
            """SELECT d.id, d.meeting_id, d.tenant_id, d.stage, d.priority, d.created_at,
                      d.not_before, d.engine, m.duration_s
               FROM dispatches d JOIN meetings m ON m.id = d.meeting_id
               WHERE d.state = 'pending' AND ($1::text IS NULL OR d.stage = $1)
               ORDER BY d.created_at, d.id""",
            stage,
        )
    )


async def inflight(conn: Conn, stage: str | None = None) -> list[dict[str, Any]]:
    """Dispatched work with durations, engines and start times."""
    return rows(
        await conn.fetch(
            """SELECT d.id, d.meeting_id, d.tenant_id, d.stage, d.engine, d.dispatched_at,
                      d.started_at, m.duration_s
               FROM dispatches d JOIN meetings m ON m.id = d.meeting_id
               WHERE d.state = 'dispatched' AND ($1::text IS NULL OR d.stage = $1)""",
            stage,
        )
    )


async def unstarted(conn: Conn, stage: str, older_than_s: float) -> list[dict[str, Any]]:
    """Dispatched but never started for longer than ``older_than_s``."""
    return rows(
        await conn.fetch(
            """SELECT * FROM dispatches WHERE stage = $1 AND state = 'dispatched'
                 AND started_at IS NULL
                 AND dispatched_at < now() - make_interval(secs => $2)""",
            stage,
            older_than_s,
        )
    )


async def silent_or_overdue(
    conn: Conn, heartbeat_timeout_s: float, deadline_s: float
) -> list[dict[str, Any]]:
    """Started dispatches with no sign of life for too long, or running past the deadline."""
    return rows(
        await conn.fetch(
            """SELECT *, (started_at < now() - make_interval(secs => $2)) AS overdue
               FROM dispatches WHERE state = 'dispatched' AND started_at IS NOT NULL
                 AND (COALESCE(heartbeat_at, started_at) < now() - make_interval(secs => $1)
                      OR started_at < now() - make_interval(secs => $2))""",
            heartbeat_timeout_s,
            deadline_s,
        )
    )


async def for_meeting(conn: Conn, meeting_id: UUID) -> list[dict[str, Any]]:
    """A meeting's dispatches, oldest first (per-stage timings, attempts)."""
    return rows(
        await conn.fetch(
            "SELECT * FROM dispatches WHERE meeting_id = $1 ORDER BY created_at, id", meeting_id
        )
    )


async def stage_stats(conn: Conn) -> list[dict[str, Any]]:
    """Per stage: backlog size, in flight, oldest queued age, backlog audio seconds."""
    return rows(
        await conn.fetch(
            """SELECT d.stage,
                 count(*) FILTER (WHERE d.state = 'pending') AS backlog,
                 count(*) FILTER (WHERE d.state = 'dispatched') AS inflight,
                 COALESCE(EXTRACT(EPOCH FROM now() - min(d.created_at)
                          FILTER (WHERE d.state = 'pending')), 0)::float8 AS oldest_age_s,
                 COALESCE(sum(m.duration_s) FILTER (WHERE d.state = 'pending'), 0)::float8
                     AS backlog_audio_s,
                 count(*) FILTER (WHERE d.state = 'pending' AND m.duration_s IS NULL)
                     AS backlog_unknown
               FROM dispatches d JOIN meetings m ON m.id = d.meeting_id
               WHERE d.state IN ('pending', 'dispatched')
               GROUP BY d.stage"""
        )
    )


async def set_pending_priority(conn: Conn, meeting_id: UUID, priority: int) -> None:
    """Re-prioritise a meeting's waiting dispatches."""
    await conn.execute(
        "UPDATE dispatches SET priority = $2 WHERE meeting_id = $1 AND state = 'pending'",
        meeting_id,
        priority,
    )


def new_id() -> UUID:
    """A fresh dispatch id."""
    return uuid4()
