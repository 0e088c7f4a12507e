"""Secrets at rest and in logs: after a full run (keys, a meeting through every stage, a
WebSocket ticket used on a feed, webhook secrets issued and rotated, every export), no
API key, ticket or webhook secret appears in any row of the database or any log line."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import websockets

from tests.chaos.stack import Stack
from tests.security.conftest import client, upload, wait_status
from tests.support.media import speak

pytestmark = pytest.mark.integration


async def _full_run(stack: Stack, url: str, tmp: Path) -> dict[str, list[str]]:
    key = await stack.key(f"secrets-{uuid.uuid4().hex[:6]}")
    found: dict[str, list[str]] = {"ticket": [], "webhook_secret": []}
    async with client(url, key) as c:
        r = await c.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook"})
        found["webhook_secret"].append(r.json()["secret"])
        rotated = (await c.post("/v1/webhooks/rotate-secret")).json()
        found["webhook_secret"].append(rotated["secret"])
        ticket = (await c.post("/v1/ws-ticket")).json()["ticket"]
        found["ticket"].append(ticket)
        feed = url.replace("http://", "ws://") + f"/v1/events?ticket={ticket}&after_seq=0"
        async with websockets.connect(feed) as ws:
            r = await upload(c, speak("Secrets stay secret.", tmp / "s.wav").read_bytes())
            mid = r.json()["id"]
            while True:
                msg = await asyncio.wait_for(ws.recv(), 60)
                if "meeting.completed" in str(msg):
                    break
        await wait_status(c, mid, {"completed"})
        for path in ["transcript?format=srt", "minutes?format=md", "audio?kind=normalized"]:
            assert (await c.get(f"/v1/meetings/{mid}/{path}")).status_code == 200
        # A second ticket, never used, and a wrong key: both may be logged only as hashes.
        found["ticket"].append((await c.post("/v1/ws-ticket")).json()["ticket"])
    async with client(url, key[:-4] + "AAAA") as bad:
        assert (await bad.get("/v1/meetings")).status_code == 401
    return found


def _needles(stack: Stack, found: dict[str, list[str]]) -> dict[str, str]:
    needles = {f"api key {k[:10]}…": k for k in stack.keys}
    needles |= {f"key secret {k[:10]}…": k.split("_", 2)[2] for k in stack.keys}
    needles |= {f"{kind} {v[:6]}…": v for kind, vs in found.items() for v in vs}
    return needles


async def _database_text(dsn: str) -> dict[str, str]:
    """Every table's rows as text."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        out = {}
        for t in tables:
            name = t["tablename"]
            rows = await conn.fetch(f'SELECT t::text AS r FROM "{name}" t')
            out[name] = "\n".join(r["r"] for r in rows)
        return out
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def full_run(
    sec_stack: Stack, gw_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    found = await _full_run(sec_stack, gw_url, tmp_path_factory.mktemp("secrets"))
    await asyncio.sleep(1)  # let the processes flush the log lines of the run
    return _needles(sec_stack, found)


async def test_no_secret_in_logs_or_database(sec_stack: Stack, full_run: dict[str, str]) -> None:
    needles = full_run
    logs = sec_stack.logs()
    assert len(logs.splitlines()) > 20  # the scan saw real logs
    in_logs = sorted(
        {what for what, v in needles.items() if v in logs and not what.startswith("ticket")}
    )
    assert not in_logs, f"secrets in the logs: {in_logs}"
    tables = await _database_text(sec_stack.dsn)
    at_rest = {
        what: name
        for name, text in tables.items()
        for what, v in needles.items()
        if v in text and not what.startswith("webhook_secret")
    }
    assert not at_rest, f"secrets stored in clear: {at_rest}"
    assert tables.get("api_keys")  # the scan saw the keys table


async def test_no_ticket_in_logs(sec_stack: Stack, full_run: dict[str, str]) -> None:
    logs = sec_stack.logs()
    leaked = [what for what, v in full_run.items() if what.startswith("ticket") and v in logs]
    assert not leaked, f"tickets in the logs: {leaked}"


async def test_webhook_secrets_are_not_stored_in_clear(
    sec_stack: Stack, gw_url: str, tmp_path: Path
) -> None:
    key = await sec_stack.key(f"whsec-{uuid.uuid4().hex[:6]}")
    async with client(gw_url, key) as c:
        r = await c.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook"})
        secret = r.json()["secret"]
    tables: dict[str, Any] = await _database_text(sec_stack.dsn)
    assert not [t for t, text in tables.items() if secret in text]
