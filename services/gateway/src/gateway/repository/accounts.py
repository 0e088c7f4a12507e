"""Tenants, API keys (sha256 only) and single-use WebSocket tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from gateway.db import Conn, row
from gateway.secretbox import SecretBox, is_sealed


async def ensure_tenant(conn: Conn, name: str) -> UUID:
    """The tenant called ``name``, created if new."""
    tid = await conn.fetchval(
        """INSERT INTO tenants (id, name) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id""",
        uuid4(),
        name,
    )
    assert isinstance(tid, UUID)
    return tid


async def insert_key(conn: Conn, tenant_id: UUID, prefix: str, key_hash: str, admin: bool) -> UUID:
    """Store a new API key's hash."""
    key_id = uuid4()
    await conn.execute(
        "INSERT INTO api_keys (id, tenant_id, prefix, key_hash, admin) VALUES ($1, $2, $3, $4, $5)",
        key_id,
        tenant_id,
        prefix,
        key_hash,
        admin,
    )
    return key_id


async def key_by_hash(conn: Conn, prefix: str, key_hash: str) -> dict[str, Any] | None:
    """A live key by its prefix and hash, with its tenant's name."""
    return row(
        await conn.fetchrow(
            """SELECT k.id, k.tenant_id, k.admin, t.name AS tenant_name
               FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
               WHERE k.prefix = $1 AND k.key_hash = $2 AND k.revoked_at IS NULL""",
            prefix,
            key_hash,
        )
    )


async def insert_ticket(
    conn: Conn, ticket_hash: str, tenant_id: UUID, expires_at: datetime
) -> None:
    """Store a WebSocket ticket (hashed); expired ones are purged on the way."""
    await conn.execute("DELETE FROM ws_tickets WHERE expires_at < now()")
    await conn.execute(
        "INSERT INTO ws_tickets (ticket_hash, tenant_id, expires_at) VALUES ($1, $2, $3)",
        ticket_hash,
        tenant_id,
        expires_at,
    )


async def consume_ticket(conn: Conn, ticket_hash: str) -> UUID | None:
    """Use a ticket once: returns its tenant if it existed and had not expired."""
    tid = await conn.fetchval(
        "DELETE FROM ws_tickets WHERE ticket_hash = $1 AND expires_at > now() RETURNING tenant_id",
        ticket_hash,
    )
    return tid if isinstance(tid, UUID) else None


async def webhook_secret(conn: Conn, tenant_id: UUID, box: SecretBox) -> str | None:
    """The tenant's webhook signing secret, if one was created. A legacy clear value is
    re-encrypted in place (guarded, so a concurrent rotation wins)."""
    stored = await conn.fetchval("SELECT webhook_secret FROM tenants WHERE id = $1", tenant_id)
    if not isinstance(stored, str):
        return None
    if not is_sealed(stored):
        await conn.execute(
            "UPDATE tenants SET webhook_secret = $3 WHERE id = $1 AND webhook_secret = $2",
            tenant_id,
            stored,
            box.seal(stored),
        )
    return box.open(stored)


async def set_webhook_secret(conn: Conn, tenant_id: UUID, secret: str, box: SecretBox) -> None:
    """Replace the tenant's webhook signing secret (stored encrypted)."""
    await conn.execute(
        "UPDATE tenants SET webhook_secret = $2 WHERE id = $1", tenant_id, box.seal(secret)
    )
