"""Dead-lettered messages, kept for inspection and re-queueing."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from gateway.db import Conn, row, rows


async def insert(
    conn: Conn,
    *,
    meeting_id: UUID | None,
    dispatch_id: UUID | None,
    stage: str | None,
    routing_key: str,
    exchange: str,
    body: bytes,
    headers: dict[str, Any],
    reason: str,
) -> UUID:
    """Store one dead-lettered message."""
    dl_id = uuid4()
    await conn.execute(
        """INSERT INTO dead_letters (id, meeting_id, dispatch_id, stage, routing_key, exchange,
               body, headers, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        dl_id,
        meeting_id,
        dispatch_id,
        stage,
        routing_key,
        exchange,
        body,
        headers,
        reason,
    )
    return dl_id


async def list_all(conn: Conn, limit: int) -> list[dict[str, Any]]:
    """Newest first."""
    return rows(
        await conn.fetch("SELECT * FROM dead_letters ORDER BY received_at DESC LIMIT $1", limit)
    )


async def get(conn: Conn, dl_id: UUID) -> dict[str, Any] | None:
    """One dead letter."""
    return row(await conn.fetchrow("SELECT * FROM dead_letters WHERE id = $1", dl_id))


async def mark_requeued(conn: Conn, dl_id: UUID) -> None:
    """Remember that the message was published again."""
    await conn.execute("UPDATE dead_letters SET requeued_at = now() WHERE id = $1", dl_id)


async def count_open(conn: Conn) -> int:
    """Dead letters not re-queued."""
    return int(
        await conn.fetchval("SELECT count(*) FROM dead_letters WHERE requeued_at IS NULL") or 0
    )
