"""The event log: per-meeting and per-tenant sequence numbers assigned in the inserting
transaction, announced with NOTIFY to every gateway process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from uuid import UUID

from gateway.db import Conn, row, rows

CHANNEL = "minuta_events"
WORK_CHANNEL = "minuta_work"
#: NOTIFY payloads are limited to 8000 bytes; larger events are fetched by listeners.
_NOTIFY_INLINE_MAX = 7000


# Both sequence numbers and the insert in one round trip. The tenant row lock taken by the
# UPDATE is held to commit, which is what makes tenant_seq order commit order.
_APPEND = """
WITH ms AS (UPDATE meetings SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq),
     ts AS (UPDATE tenants SET last_seq = last_seq + 1 WHERE id = $2 RETURNING last_seq)
INSERT INTO events (meeting_id, tenant_id, seq, tenant_seq, event_id, type, stage,
                    dispatch_id, status, payload, occurred_at)
SELECT $1, $2, ms.last_seq, ts.last_seq, $3::uuid, $4::text, $5::text, $6::uuid, $7::text,
       $8::jsonb, $9::timestamptz
FROM ms, ts
RETURNING *
"""
#: While set (a batch of events applied in one transaction), NOTIFYs are collected here and
#: sent by ``flush_notifications`` in one round trip just before commit, in the same order.
_DEFERRED: ContextVar[list[tuple[str, str]] | None] = ContextVar("deferred_notify", default=None)


async def _notify(conn: Conn, channel: str, payload: str) -> None:
    buffer = _DEFERRED.get()
    if buffer is None:
        await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
    elif channel != WORK_CHANNEL or (channel, payload) not in buffer:
        buffer.append((channel, payload))


@contextmanager
def deferred_notifications() -> Iterator[list[tuple[str, str]]]:
    """Collect this task's NOTIFYs instead of sending each (see ``flush_notifications``)."""
    buffer: list[tuple[str, str]] = []
    token = _DEFERRED.set(buffer)
    try:
        yield buffer
    finally:
        _DEFERRED.reset(token)


async def flush_notifications(conn: Conn, buffer: list[tuple[str, str]]) -> None:
    """Send collected NOTIFYs in one statement (delivered at commit, in this order)."""
    if buffer:
        await conn.execute(
            "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS u(c, p)",
            [c for c, _ in buffer],
            [p for _, p in buffer],
        )
        buffer.clear()


async def exists(conn: Conn, event_id: UUID) -> bool:
    """Whether an event with this id was already persisted."""
    return bool(await conn.fetchval("SELECT 1 FROM events WHERE event_id = $1", event_id))


async def append(
    conn: Conn,
    *,
    meeting_id: UUID,
    tenant_id: UUID,
    event_id: UUID,
    type: str,
    stage: str | None,
    dispatch_id: UUID | None,
    status: str,
    payload: dict[str, Any],
    occurred_at: datetime,
) -> dict[str, Any]:
    """Persist one event with the next meeting and tenant seq, and NOTIFY it.

    The tenant row lock serialises a tenant's inserts, so ``tenant_seq`` order is commit
    order: a client resuming after ``tenant_seq`` N never misses a later-committed event.
    """
    rec = await conn.fetchrow(
        _APPEND,
        meeting_id,
        tenant_id,
        event_id,
        type,
        stage,
        dispatch_id,
        status,
        payload,
        occurred_at,
    )
    if rec is None:
        raise LookupError(f"no meeting {meeting_id} of tenant {tenant_id} to log an event for")
    event = dict(rec.items())
    message = to_message(event)
    text = json.dumps({"tenant_id": str(tenant_id), "event": message})
    if len(text) > _NOTIFY_INLINE_MAX:
        text = json.dumps({"tenant_id": str(tenant_id), "ref": event["id"]})
    await _notify(conn, CHANNEL, text)
    return event


def to_message(event: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape clients receive (REST log, WebSocket feeds, webhooks)."""
    return {
        "meeting_id": str(event["meeting_id"]),
        "seq": event["seq"],
        "tenant_seq": event["tenant_seq"],
        "event_id": str(event["event_id"]),
        "type": event["type"],
        "stage": event["stage"],
        "dispatch_id": str(event["dispatch_id"]) if event["dispatch_id"] else None,
        "status": event["status"],
        "occurred_at": event["occurred_at"].isoformat(),
        "persisted_at": event["persisted_at"].isoformat(),
        "data": event["payload"],
    }


async def by_row_id(conn: Conn, row_id: int) -> dict[str, Any] | None:
    """One event by its row id (for NOTIFY references)."""
    return row(await conn.fetchrow("SELECT * FROM events WHERE id = $1", row_id))


async def for_meeting(
    conn: Conn, meeting_id: UUID, after_seq: int, limit: int
) -> list[dict[str, Any]]:
    """A meeting's events after ``after_seq``, in order."""
    return rows(
        await conn.fetch(
            """SELECT * FROM events WHERE meeting_id = $1 AND seq > $2
               ORDER BY seq LIMIT $3""",
            meeting_id,
            after_seq,
            limit,
        )
    )


async def for_tenant(
    conn: Conn, tenant_id: UUID, after_tenant_seq: int, limit: int
) -> list[dict[str, Any]]:
    """A tenant's events after ``after_tenant_seq``, in order."""
    return rows(
        await conn.fetch(
            """SELECT * FROM events WHERE tenant_id = $1 AND tenant_seq > $2
               ORDER BY tenant_seq LIMIT $3""",
            tenant_id,
            after_tenant_seq,
            limit,
        )
    )


async def notify_work(conn: Conn) -> None:
    """Wake every gateway's dispatcher (new pending work), at commit."""
    await _notify(conn, WORK_CHANNEL, "")


async def tenant_last_seq(conn: Conn, tenant_id: UUID) -> int:
    """The newest ``tenant_seq`` of a tenant (0 if none)."""
    return int(await conn.fetchval("SELECT last_seq FROM tenants WHERE id = $1", tenant_id) or 0)
