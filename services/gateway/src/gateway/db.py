"""The asyncpg pool: JSON codecs so jsonb columns read and write Python objects."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Record = asyncpg.Record
if TYPE_CHECKING:
    Conn: TypeAlias = asyncpg.Connection[Record] | PoolConnectionProxy[Record]
    Pool: TypeAlias = asyncpg.Pool[Record]
else:  # asyncpg's classes are not subscriptable at run time (only in the stubs)
    Conn = asyncpg.Connection | PoolConnectionProxy
    Pool = asyncpg.Pool


async def _init(conn: Conn) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    """A pool whose connections encode/decode JSON columns."""
    pool: Pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init)
    return pool


async def connect(dsn: str) -> asyncpg.Connection[Record]:
    """A single connection with the same codecs (for LISTEN and CLI commands)."""
    conn: asyncpg.Connection[Record] = await asyncpg.connect(dsn)
    await _init(conn)
    return conn


def row(record: Record | None) -> dict[str, Any] | None:
    """A record as a plain dict (or None)."""
    return dict(record.items()) if record is not None else None


def rows(records: list[Record]) -> list[dict[str, Any]]:
    """Records as plain dicts."""
    return [dict(r.items()) for r in records]
