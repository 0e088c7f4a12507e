"""Operator-facing pieces: the key CLI, retention, migrations applied concurrently."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import gateway.migrate
import pytest
from alembic.script import ScriptDirectory
from gateway.migrate import migrate
from gateway.retention import Retention
from shared.storage import meeting_key

from tests.integration.gateway.harness import Gateway
from tests.integration.gateway.test_events import submit

pytestmark = pytest.mark.integration


async def test_keys_create_prints_a_working_key(gateway: Gateway, clean_db: str) -> None:
    env = {**os.environ, "GATEWAY_DATABASE_URL": clean_db, "GATEWAY_LOG_JSON": "true"}
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "gateway", "keys", "create", "--tenant", "cli-co", "--admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = proc.stdout.strip().splitlines()[-1]
    assert key.startswith("mk_")
    async with gateway.client(key) as client:
        assert (await client.get("/v1/admin/dead-letters")).status_code == 200


async def test_concurrent_migrations_apply_once(fresh_db: Any) -> None:
    dsn = await fresh_db()
    env = {**os.environ, "GATEWAY_DATABASE_URL": dsn, "GATEWAY_LOG_JSON": "true"}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway",
            "migrate",
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    codes = await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), 120)
    assert codes == [0, 0]
    await migrate(dsn)  # idempotent in-process too
    conn = await asyncpg.connect(dsn)
    try:
        # The newest revision, whichever it is (engineers add revisions in parallel).
        head = ScriptDirectory(str(Path(gateway.migrate.__file__).parent / "migrations"))
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == (
            head.get_current_head()
        )
    finally:
        await conn.close()


async def test_retention_deletes_old_originals_but_not_meetings_in_progress(
    gateways: Any, keys: Any, clean_db: str
) -> None:
    gateway: Gateway = await gateways(
        dispatch_slack=0, retention_original_days=1, retention_meeting_days=2
    )
    async with gateway.client(await keys()) as client:
        old, running, recent = [(await submit(client))["id"] for _ in range(3)]
    conn = await asyncpg.connect(clean_db)
    try:
        await conn.execute(
            """UPDATE meetings SET status = 'completed', finished_at = now() - interval '36 hours'
               WHERE id = $1""",
            UUID(old),
        )
        await conn.execute(
            "UPDATE meetings SET created_at = now() - interval '90 days' WHERE id = $1",
            UUID(running),
        )
        await conn.execute(
            """UPDATE meetings SET status = 'completed', finished_at = now() - interval '3 days'
               WHERE id = $1""",
            UUID(recent),
        )
        deps = gateway.deps
        done = await Retention(deps.pool, deps.settings, deps.store).sweep()
        store = deps.store
        assert not await store.exists(meeting_key(old, "original"))
        assert await store.exists(meeting_key(running, "original"))
        assert done["meetings"] == 1
        assert await conn.fetchval("SELECT count(*) FROM meetings WHERE id = $1", UUID(recent)) == 0
        assert (
            await conn.fetchval("SELECT status FROM meetings WHERE id = $1", UUID(running))
            == "queued"
        )
    finally:
        await conn.close()
