"""Fixtures every test layer shares: the real RabbitMQ and PostgreSQL on localhost.

- ``amqp_url``: the broker (session); ``namespace``: a unique exchange/queue prefix per test,
  deleted afterwards, so tests never see each other's messages.
- ``pg_admin_dsn``: the server; ``pg_dsn``: a fresh database for this test session (dropped
  at the end); ``fresh_db``: a factory for an extra empty database.
- ``blob_root``: an empty blob store directory per test.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aio_pika
import asyncpg
import pytest

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return AMQP_URL


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    return PG_ADMIN_DSN


def _dsn_for(db: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + db


@pytest.fixture(scope="session")
async def fresh_db() -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """Factory: create an empty database, return its DSN; all are dropped at session end."""
    created: list[str] = []

    async def make() -> str:
        name = f"minuta_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        created.append(name)
        return _dsn_for(name)

    yield make
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def pg_dsn(fresh_db: Callable[[], Awaitable[str]]) -> str:
    return await fresh_db()


@pytest.fixture
async def namespace(amqp_url: str) -> AsyncIterator[str]:
    """A unique prefix for exchanges and queues; everything under it is deleted after."""
    ns = f"t{uuid.uuid4().hex[:10]}"
    yield ns
    conn = await aio_pika.connect(amqp_url)
    try:
        for stage in ("ingest", "transcribe", "summarize", "events", "dead"):
            ch = await conn.channel()
            with contextlib.suppress(Exception):  # best-effort cleanup
                await ch.queue_delete(f"{ns}.{stage}")
        for ex in ("jobs", "events", "control", "dlx"):
            ch = await conn.channel()
            with contextlib.suppress(Exception):
                await ch.exchange_delete(f"{ns}.{ex}")
    finally:
        await conn.close()


@pytest.fixture
def blob_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "blobs"
    root.mkdir()
    return root
