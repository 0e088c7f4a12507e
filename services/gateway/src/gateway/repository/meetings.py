"""Meetings: insert, read, list with a cursor, guarded updates, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from gateway.db import Conn, row, rows
from gateway.repository._util import set_clause

_UPDATABLE = (
    "title",
    "status",
    "stage",
    "progress",
    "options",
    "priority",
    "audio_key",
    "duration_s",
    "artifacts",
    "error_stage",
    "error_code",
    "error_reason",
    "speaker_names",
    "current_dispatch_id",
    "predicted_finish_at",
    "finished_at",
)


async def insert(conn: Conn, **fields: Any) -> dict[str, Any]:
    """Insert a meeting; ``fields`` are column values."""
    cols = list(fields)
    marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    rec = await conn.fetchrow(
        f"INSERT INTO meetings ({', '.join(cols)}) VALUES ({marks}) RETURNING *",  # noqa: S608
        *fields.values(),
    )
    assert rec is not None
    return dict(rec.items())


async def by_idempotency_key(conn: Conn, tenant_id: UUID, key: str) -> dict[str, Any] | None:
    """The tenant's meeting submitted with this Idempotency-Key, if any."""
    return row(
        await conn.fetchrow(
            "SELECT * FROM meetings WHERE tenant_id = $1 AND idempotency_key = $2", tenant_id, key
        )
    )


async def get(conn: Conn, meeting_id: UUID, tenant_id: UUID | None = None) -> dict[str, Any] | None:
    """One meeting; with ``tenant_id`` only if it belongs to that tenant."""
    if tenant_id is None:
        return row(await conn.fetchrow("SELECT * FROM meetings WHERE id = $1", meeting_id))
    return row(
        await conn.fetchrow(
            "SELECT * FROM meetings WHERE id = $1 AND tenant_id = $2", meeting_id, tenant_id
        )
    )


async def lock(conn: Conn, meeting_id: UUID) -> dict[str, Any] | None:
    """Read and lock a meeting row for the rest of the transaction."""
    return row(await conn.fetchrow("SELECT * FROM meetings WHERE id = $1 FOR UPDATE", meeting_id))


_D_COLS = [
    "id",
    "meeting_id",
    "tenant_id",
    "stage",
    "attempt",
    "state",
    "priority",
    "engine",
    "not_before",
    "created_at",
    "dispatched_at",
    "started_at",
    "heartbeat_at",
    "finished_at",
    "error",
]
# What applying a worker event needs, in one round trip: the meeting (locked), whether the
# event was already persisted, and the dispatch it claims to belong to. Read-committed
# rechecks after waiting for the lock may keep an older view of the joined rows; that is
# safe: the meeting row (current dispatch, status) is re-read, and a duplicate that slipped
# past the EXISTS fails the unique event_id index, rolling back and re-applying alone.
_FOR_EVENT = f"""
SELECT m.*, EXISTS (SELECT 1 FROM events e WHERE e.event_id = $2) AS _dup,
       {", ".join(f"d.{c} AS _d_{c}" for c in _D_COLS)}
FROM meetings m LEFT JOIN dispatches d ON d.id = $3
WHERE m.id = $1
FOR UPDATE OF m
"""  # noqa: S608


async def lock_for_event(
    conn: Conn, meeting_id: UUID, event_id: UUID, dispatch_id: UUID
) -> tuple[dict[str, Any] | None, bool, dict[str, Any] | None]:
    """(meeting locked, event already persisted, dispatch) for one worker event."""
    rec = await conn.fetchrow(_FOR_EVENT, meeting_id, event_id, dispatch_id)
    if rec is None:
        return None, False, None
    m: dict[str, Any] = {}
    d: dict[str, Any] = {}
    for key, value in rec.items():
        if key.startswith("_d_"):
            d[key[3:]] = value
        elif key != "_dup":
            m[key] = value
    return m, bool(rec["_dup"]), (d if d["id"] is not None else None)


async def lock_many(conn: Conn, meeting_ids: list[UUID]) -> None:
    """Lock several meeting rows, always in id order (so two lockers cannot deadlock)."""
    await conn.execute(
        "SELECT 1 FROM meetings WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", meeting_ids
    )


async def list_for_tenant(
    conn: Conn,
    tenant_id: UUID,
    *,
    status: str | None,
    limit: int,
    before: tuple[datetime, UUID] | None,
) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the (created_at, id) of the last row of the previous page."""
    args: list[Any] = [tenant_id, limit]
    where = ["tenant_id = $1"]
    if status:
        args.append(status)
        where.append(f"status = ${len(args)}")
    if before:
        args += [before[0], before[1]]
        where.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    sql = (
        f"SELECT * FROM meetings WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY created_at DESC, id DESC LIMIT $2"
    )
    return rows(await conn.fetch(sql, *args))


async def update(
    conn: Conn, meeting_id: UUID, *, expect: tuple[str, ...] | None = None, **fields: Any
) -> bool:
    """Guarded update: applies only while the status is one of ``expect``; True if applied."""
    clause, values = set_clause(fields, _UPDATABLE, 2)
    sql = f"UPDATE meetings SET {clause}, updated_at = now() WHERE id = $1"  # noqa: S608
    args: list[Any] = [meeting_id, *values]
    if expect is not None:
        args.append(list(expect))
        sql += f" AND status = ANY(${len(args)}::text[])"
    result = await conn.execute(sql, *args)
    return result.endswith(" 1")


async def delete(conn: Conn, meeting_id: UUID) -> None:
    """Delete a meeting, its dispatches and events (cascade), webhook deliveries and
    dead letters (they may hold its source URL)."""
    await conn.execute("DELETE FROM webhook_deliveries WHERE meeting_id = $1", meeting_id)
    await conn.execute("DELETE FROM dead_letters WHERE meeting_id = $1", meeting_id)
    await conn.execute("DELETE FROM meetings WHERE id = $1", meeting_id)
