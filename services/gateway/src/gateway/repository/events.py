"""The event log: per-meeting and per-tenant sequence numbers assigned in the inserting
transaction, announced with NOTIFY to every gateway process."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from gateway.db import Conn, row, rows

CHANNEL = "minuta_events"
WORK_CHANNEL = "minuta_work"
#: NOTIFY payloads are limited to 8000 bytes; larger events are fetched by listeners.
_NOTIFY_INLINE_MAX = 7000


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
    seq = await conn.fetchval(
        "UPDATE meetings SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq", meeting_id
    )
    tseq = await conn.fetchval(
        "UPDATE tenants SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq", tenant_id
    )
    rec = await conn.fetchrow(
        """INSERT INTO events (meeting_id, tenant_id, seq, tenant_seq, event_id, type, stage,
               dispatch_id, status, payload, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *""",
        meeting_id,
        tenant_id,
        seq,
        tseq,
        event_id,
        type,
        stage,
        dispatch_id,
        status,
        payload,
        occurred_at,
    )
    assert rec is not None
    event = dict(rec.items())
    message = to_message(event)
    text = json.dumps({"tenant_id": str(tenant_id), "event": message})
    if len(text) > _NOTIFY_INLINE_MAX:
        text = json.dumps({"tenant_id": str(tenant_id), "ref": event["id"]})
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, text)
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
    await conn.execute("SELECT pg_notify($1, '')", WORK_CHANNEL)


async def tenant_last_seq(conn: Conn, tenant_id: UUID) -> int:
    """The newest ``tenant_seq`` of a tenant (0 if none)."""
    return int(await conn.fetchval("SELECT last_seq FROM tenants WHERE id = $1", tenant_id) or 0)
