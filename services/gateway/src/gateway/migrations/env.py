"""Alembic environment: async engine over asyncpg, one transaction under an advisory lock.

The lock makes several gateways starting at once apply migrations one after the other: the
second one waits, then finds the schema current and does nothing.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATION_LOCK = 0x6D696E75  # "minu"


def _do_run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_do_run)
    finally:
        await engine.dispose()


def _async_url(dsn: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+asyncpg://" + dsn[len(prefix) :]
    return dsn


asyncio.run(_run_async(_async_url(context.config.attributes["dsn"])))
