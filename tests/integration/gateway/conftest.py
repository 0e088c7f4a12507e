"""Gateway integration fixtures: a migrated database (once per session, emptied per test),
gateways started on demand, API keys, and fake workers on the test's namespace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from gateway.migrate import migrate
from gateway.settings import Settings

from tests.integration.gateway.harness import FakeWorkers, Gateway, new_key, start_gateway

pytestmark = pytest.mark.integration
_TABLES = (
    "dead_letters, webhook_deliveries, webhooks, engine_stats, events, dispatches, "
    "meetings, ws_tickets, api_keys, tenants"
)


@pytest.fixture(scope="session")
async def gw_dsn(pg_dsn: str) -> str:
    await migrate(pg_dsn)
    return pg_dsn


@pytest.fixture
async def clean_db(gw_dsn: str) -> str:
    conn = await asyncpg.connect(gw_dsn)
    try:
        await conn.execute(f"TRUNCATE {_TABLES} CASCADE")
    finally:
        await conn.close()
    return gw_dsn


@pytest.fixture
def gw_settings(
    clean_db: str, amqp_url: str, namespace: str, blob_root: Path
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": clean_db,
            "amqp_url": amqp_url,
            "namespace": namespace,
            "blob_root": blob_root,
            "migrate_on_start": False,
            "dispatch_interval_s": 0.2,
            "sweep_interval_s": 0.3,
            "dispatch_slack": 1,
            "backoff_base_s": 0.2,
            "url_allow": ["127.0.0.1"],
            "webhook_interval_s": 0.1,
            "webhook_schedule_s": [0.2, 0.2],
            "retention_interval_s": 3600,
            "log_json": True,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
async def gateways(
    gw_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Awaitable[Gateway]]]:
    started: list[Gateway] = []

    async def start(**overrides: Any) -> Gateway:
        gw = await start_gateway(gw_settings(**overrides))
        started.append(gw)
        return gw

    yield start
    for gw in reversed(started):
        await gw.stop()


@pytest.fixture
async def gateway(gateways: Callable[..., Awaitable[Gateway]]) -> Gateway:
    return await gateways()


@pytest.fixture
async def keys(clean_db: str) -> Callable[..., Awaitable[str]]:
    async def make(tenant: str = "acme", admin: bool = False) -> str:
        return await new_key(clean_db, tenant, admin)

    return make


@pytest.fixture
async def workers(amqp_url: str, namespace: str) -> AsyncIterator[FakeWorkers]:
    fw = await FakeWorkers.open(amqp_url, namespace)
    yield fw
    await fw.close()
