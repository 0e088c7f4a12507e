"""Tenant isolation: every route that takes an object id (enumerated from the app's own
OpenAPI, so a new route cannot be missed) answers another tenant exactly as it answers an
id that does not exist, changes nothing, and both WebSocket feeds refuse or filter; a
revoked key stops working at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets
from gateway.app import create_app
from gateway.settings import Settings
from starlette.routing import WebSocketRoute

from tests.chaos.stack import Stack
from tests.security.conftest import client, upload, wait_status
from tests.support.media import speak

pytestmark = pytest.mark.integration

#: A body each id route accepts, so validation cannot answer before the ownership check.
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/v1/meetings/{meeting_id}/rerun"): {"stage": "summarize"},
    ("post", "/v1/meetings/{meeting_id}/summarize"): {},
    ("patch", "/v1/meetings/{meeting_id}/speakers"): {"S1": "Mallory"},
    ("patch", "/v1/admin/meetings/{meeting_id}/priority"): {"priority": 5},
}
FEEDS = {"/v1/events", "/v1/meetings/{meeting_id}/events"}


async def _setup_owner(stack: Stack, url: str, tmp: Path) -> tuple[str, dict[str, str]]:
    """Tenant A with a completed meeting and a webhook; returns A's key and its ids."""
    key = await stack.key(f"owner-{uuid.uuid4().hex[:6]}")
    async with client(url, key) as c:
        r = await upload(c, speak("Tenant isolation check.", tmp / "a.wav").read_bytes())
        assert r.status_code == 202, r.text
        mid = r.json()["id"]
        await wait_status(c, mid, {"completed"}, 60)
        r = await c.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook"})
        assert r.status_code == 201, r.text
    return key, {"meeting_id": mid, "webhook_id": r.json()["id"]}


def _id_routes(spec: dict[str, Any]) -> list[tuple[str, str]]:
    routes = []
    for path, ops in spec["paths"].items():
        if "{" in path:
            routes.extend((method, path) for method in ops)
    return routes


async def _call(c: httpx.AsyncClient, method: str, path: str, ids: dict[str, str]) -> Any:
    def fill(m: re.Match[str]) -> str:
        return ids.get(m.group(1), str(uuid.uuid4()))

    url = re.sub(r"\{(\w+)\}", fill, path)
    body = BODIES.get((method, path))
    r = await c.request(method.upper(), url, json=body)
    return r.status_code, (r.json().get("error") if r.content else None)


async def test_another_tenant_sees_nothing_of_ids(
    sec_stack: Stack, gw_url: str, tmp_path: Path
) -> None:
    owner_key, ids = await _setup_owner(sec_stack, gw_url, tmp_path)
    other = await sec_stack.key(f"other-{uuid.uuid4().hex[:6]}")
    async with client(gw_url, owner_key) as c:
        spec = (await c.get("/openapi.json")).json()
    routes = _id_routes(spec)
    params = {p for _, path in routes for p in re.findall(r"\{(\w+)\}", path)}
    assert params <= {"meeting_id", "webhook_id", "dl_id"}, f"new id kind: {params}"
    leaks = {}
    async with client(gw_url, other) as c:
        for method, path in routes:
            got = await _call(c, method, path, ids)
            unknown = await _call(c, method, path, {})
            expected = 403 if path.startswith("/v1/admin/") else 404
            if got != unknown or got[0] != expected:
                leaks[f"{method.upper()} {path}"] = {"other_tenant": got, "no_such_id": unknown}
    assert not leaks, f"answers that differ for another tenant's object: {leaks}"
    async with client(gw_url, owner_key) as c:  # and nothing was changed
        m = (await c.get(f"/v1/meetings/{ids['meeting_id']}")).json()
        assert m["status"] == "completed"
        assert m["speaker_names"] == {}
        assert [h["id"] for h in (await c.get("/v1/webhooks")).json()["items"]] == [
            ids["webhook_id"]
        ]


def _ws_paths(routes: list[Any]) -> set[str]:
    found = set()
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:  # FastAPI's lazily included routers
            found |= _ws_paths(list(inner.routes))
        elif isinstance(r, WebSocketRoute) or type(r).__name__ == "APIWebSocketRoute":
            found.add(r.path)
    return found


def test_the_feed_list_is_complete() -> None:
    """WebSocket routes are not in OpenAPI: this fails when one is added without a test."""
    assert _ws_paths(list(create_app(Settings()).routes)) == FEEDS


async def _ticket(url: str, key: str) -> str:
    async with client(url, key) as c:
        r = await c.post("/v1/ws-ticket")
        assert r.status_code == 200, r.text
        return str(r.json()["ticket"])


async def _refusal(url: str, wait: float = 8) -> str:
    """How a feed refuses: 'http <status>' at the handshake, 'close <code>', or 'open'."""
    try:
        async with websockets.connect(url) as ws:
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), wait)
            except websockets.ConnectionClosed as e:
                return f"close {e.rcvd.code if e.rcvd else None}"
            except TimeoutError:
                return "open"
    except websockets.InvalidStatus as e:
        return f"http {e.response.status_code}"


def _ws(url: str, path: str, ticket: str, after: int | None = None) -> str:
    q = f"?ticket={ticket}" + (f"&after_seq={after}" if after is not None else "")
    return url.replace("http://", "ws://") + path + q


async def test_feeds_refuse_or_filter_another_tenant(
    sec_stack: Stack, gw_url: str, tmp_path: Path
) -> None:
    _owner_key, ids = await _setup_owner(sec_stack, gw_url, tmp_path)
    other = await sec_stack.key(f"other-{uuid.uuid4().hex[:6]}")
    meeting_path = f"/v1/meetings/{ids['meeting_id']}/events"
    refused = await _refusal(_ws(gw_url, meeting_path, await _ticket(gw_url, other), 0))
    assert refused in {"http 403", "close 4404"}
    # The other tenant's whole-tenant feed, replayed from the start, holds only its own.
    url = _ws(gw_url, "/v1/events", await _ticket(gw_url, other), 0)
    async with websockets.connect(url) as ws, client(gw_url, other) as c:
        r = await upload(c, speak("Only mine.", tmp_path / "b.wav").read_bytes())
        mine = r.json()["id"]
        seen: set[str] = set()
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
            seen.add(msg.get("meeting_id", ""))
            if msg.get("type") == "meeting.completed" and msg["meeting_id"] == mine:
                break
    assert seen - {""} == {mine}


async def _revoke(stack: Stack, key: str) -> None:
    conn = await asyncpg.connect(stack.dsn)
    try:
        await conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE prefix = $1", key.split("_")[1]
        )
    finally:
        await conn.close()


async def test_a_revoked_key_stops_at_once(sec_stack: Stack, gw_url: str) -> None:
    key = await sec_stack.key(f"revoked-{uuid.uuid4().hex[:6]}")
    async with client(gw_url, key) as c:
        assert (await c.get("/v1/meetings")).status_code == 200
        await _revoke(sec_stack, key)
        for method, path in [("GET", "/v1/meetings"), ("POST", "/v1/ws-ticket")]:
            r = await c.request(method, path)
            assert r.status_code == 401, (path, r.text)


async def test_a_revoked_key_s_tickets_stop_working(sec_stack: Stack, gw_url: str) -> None:
    key = await sec_stack.key(f"revoked-{uuid.uuid4().hex[:6]}")
    unused_ticket = await _ticket(gw_url, key)
    await _revoke(sec_stack, key)
    assert await _refusal(_ws(gw_url, "/v1/events", unused_ticket)) in {"http 403", "close 1008"}


async def test_a_revoked_key_closes_its_open_feeds(sec_stack: Stack, gw_url: str) -> None:
    key = await sec_stack.key(f"revoked-{uuid.uuid4().hex[:6]}")
    async with websockets.connect(_ws(gw_url, "/v1/events", await _ticket(gw_url, key))) as ws:
        await _revoke(sec_stack, key)
        code = None
        with contextlib.suppress(TimeoutError):
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 8)
            except websockets.ConnectionClosed as e:
                code = e.rcvd.code if e.rcvd else None
        # Closed for the revocation (policy), not by chance (a restart, an overload).
        assert code == 1008, f"the feed was not closed for the revoked key (close: {code})"
