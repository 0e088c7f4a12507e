"""Webhook registrations and the delivery outbox."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from gateway.db import Conn, row, rows


async def insert(conn: Conn, tenant_id: UUID, url: str, event_types: list[str]) -> dict[str, Any]:
    """Register a tenant webhook."""
    rec = await conn.fetchrow(
        """INSERT INTO webhooks (id, tenant_id, url, event_types)
           VALUES ($1, $2, $3, $4) RETURNING *""",
        uuid4(),
        tenant_id,
        url,
        event_types,
    )
    assert rec is not None
    return dict(rec.items())


async def for_tenant(conn: Conn, tenant_id: UUID) -> list[dict[str, Any]]:
    """A tenant's webhooks."""
    return rows(
        await conn.fetch(
            "SELECT * FROM webhooks WHERE tenant_id = $1 ORDER BY created_at", tenant_id
        )
    )


async def delete(conn: Conn, tenant_id: UUID, webhook_id: UUID) -> bool:
    """Remove a webhook; True if it existed."""
    res = await conn.execute(
        "DELETE FROM webhooks WHERE id = $1 AND tenant_id = $2", webhook_id, tenant_id
    )
    return res.endswith(" 1")


async def enqueue(
    conn: Conn,
    *,
    tenant_id: UUID,
    meeting_id: UUID | None,
    webhook_id: UUID | None,
    url: str,
    event_type: str,
    body: str,
) -> None:
    """Add a delivery to the outbox (in the transaction of the event it announces)."""
    await conn.execute(
        """INSERT INTO webhook_deliveries (id, tenant_id, meeting_id, webhook_id, url,
               event_type, body, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')""",
        uuid4(),
        tenant_id,
        meeting_id,
        webhook_id,
        url,
        event_type,
        body,
    )


async def claim_due(conn: Conn, limit: int, lease_s: float) -> list[dict[str, Any]]:
    """Due deliveries, leased for ``lease_s`` so another gateway does not send them too."""
    return rows(
        await conn.fetch(
            """UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE id IN (SELECT id FROM webhook_deliveries
                        WHERE state = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING *""",
            limit,
            lease_s,
        )
    )


async def record_attempt(
    conn: Conn,
    delivery_id: UUID,
    *,
    state: str,
    status: int | None,
    error: str | None,
    retry_in_s: float | None,
) -> None:
    """Store the outcome of one attempt and when to try again."""
    await conn.execute(
        """UPDATE webhook_deliveries SET state = $2, attempts = attempts + 1,
               last_status = $3, last_error = $4,
               next_attempt_at = now() + make_interval(secs => COALESCE($5, 0)),
               delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
           WHERE id = $1""",
        delivery_id,
        state,
        status,
        error,
        retry_in_s,
    )


async def deliveries(conn: Conn, tenant_id: UUID, limit: int) -> list[dict[str, Any]]:
    """A tenant's delivery log, newest first."""
    return rows(
        await conn.fetch(
            """SELECT * FROM webhook_deliveries WHERE tenant_id = $1
           ORDER BY created_at DESC LIMIT $2""",
            tenant_id,
            limit,
        )
    )


async def get_delivery(conn: Conn, delivery_id: UUID) -> dict[str, Any] | None:
    """One delivery."""
    return row(await conn.fetchrow("SELECT * FROM webhook_deliveries WHERE id = $1", delivery_id))
