"""API keys (``mk_<prefix>_<secret>``, stored as sha256), WebSocket tickets, rate limits."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from gateway.db import Conn
from gateway.errors import RateLimited, Unauthorized
from gateway.repository import accounts


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant, through one key, maybe an admin."""

    tenant_id: UUID
    tenant_name: str
    key_id: UUID
    admin: bool


def hash_secret(value: str) -> str:
    """sha256 hex of a key or ticket (only hashes are stored)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A new API key: (full key, lookup prefix, sha256)."""
    prefix = secrets.token_hex(4)
    key = f"mk_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_secret(key)


async def create_key(conn: Conn, tenant: str, admin: bool) -> tuple[str, UUID]:
    """Create (or reuse) a tenant and give it a new key; the key is returned only here."""
    tenant_id = await accounts.ensure_tenant(conn, tenant)
    key, prefix, digest = new_key()
    await accounts.insert_key(conn, tenant_id, prefix, digest, admin)
    return key, tenant_id


async def authenticate(conn: Conn, authorization: str | None) -> Principal:
    """Resolve an ``Authorization: Bearer <key>`` header; 401 with a reason otherwise."""
    if not authorization:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "mk":
        raise Unauthorized("this is not a Minuta API key")
    found = await accounts.key_by_hash(conn, parts[1], hash_secret(key))
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    return Principal(found["tenant_id"], found["tenant_name"], found["id"], found["admin"])


@dataclass(frozen=True)
class FeedGrant:
    """What a redeemed ticket allows: a tenant's feeds, for as long as its key is active."""

    tenant_id: UUID
    key_id: UUID


async def issue_ticket(conn: Conn, who: Principal, ttl_s: float) -> str:
    """A short-lived, single-use ticket for opening a WebSocket feed, tied to ``who``'s key."""
    ticket = secrets.token_urlsafe(24)
    expires = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await conn.execute("DELETE FROM ws_tickets WHERE expires_at < now()")
    await conn.execute(
        """INSERT INTO ws_tickets (ticket_hash, tenant_id, key_id, expires_at)
           VALUES ($1, $2, $3, $4)""",
        hash_secret(ticket),
        who.tenant_id,
        who.key_id,
        expires,
    )
    return ticket


async def redeem_ticket(conn: Conn, ticket: str | None) -> FeedGrant | None:
    """Consume a valid ticket whose key is still active; None otherwise."""
    if not ticket:
        return None
    found = await conn.fetchrow(
        """DELETE FROM ws_tickets t USING api_keys k
           WHERE t.ticket_hash = $1 AND t.expires_at > now()
             AND k.id = t.key_id AND k.revoked_at IS NULL
           RETURNING t.tenant_id, t.key_id""",
        hash_secret(ticket),
    )
    return None if found is None else FeedGrant(found["tenant_id"], found["key_id"])


async def key_active(conn: Conn, key_id: UUID) -> bool:
    """Whether the key still exists and is not revoked (open feeds re-check it)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = $1 AND revoked_at IS NULL)", key_id
        )
    )


class RateLimiter:
    """Token bucket per API key (per gateway process)."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[UUID, tuple[float, float]] = {}

    def check(self, key_id: UUID) -> None:
        """Take one token or raise 429 with Retry-After."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            wait = (1.0 - tokens) / self.rate if self.rate > 0 else 60.0
            self._buckets[key_id] = (tokens, now)
            raise RateLimited(
                f"too many submissions with this key; retry in {wait:.0f} s",
                headers={"Retry-After": str(max(1, round(wait + 0.5)))},
            )
        self._buckets[key_id] = (tokens - 1.0, now)
