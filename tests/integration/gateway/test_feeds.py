"""WebSocket feeds: replay after a disconnect with no gap and no duplicate, the tenant feed,
ticket and Origin checks, and two gateways sharing one database and broker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aio_pika
import pytest
import websockets
from shared.amqp import Names
from shared.storage import LocalBlobStore
from websockets.exceptions import InvalidStatus

from tests.integration.gateway.harness import FakeWorkers, Gateway, eventually
from tests.integration.gateway.test_events import submit
from tests.integration.gateway.test_pipeline import run_pipeline

pytestmark = pytest.mark.integration


async def ticket(client: Any) -> str:
    resp = await client.post("/v1/ws-ticket")
    assert resp.status_code == 200
    value: str = resp.json()["ticket"]
    return value


def ws_url(gateway: Gateway, path: str, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return gateway.url.replace("http://", "ws://") + path + "?" + query


async def recv_event(ws: Any, timeout: float = 15) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message.get("type") != "ping":
            return message


async def test_reconnect_replays_exactly_what_was_missed(
    gateway: Gateway, workers: FakeWorkers, keys: Any
) -> None:
    store = LocalBlobStore(gateway.deps.settings.blob_root)
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        path = f"/v1/meetings/{mid}/events"
        got: list[dict[str, Any]] = []
        async with websockets.connect(ws_url(gateway, path, ticket=await ticket(client))) as ws:
            got.append(await recv_event(ws))
            # The pipeline runs while this client is away and while it reconnects.
            pipeline = asyncio.ensure_future(run_pipeline(workers, store))
            got.append(await recv_event(ws))
        await asyncio.sleep(0.3)
        url = ws_url(gateway, path, ticket=await ticket(client), after_seq=got[-1]["seq"])
        async with websockets.connect(url) as ws:
            while got[-1]["type"] != "meeting.completed":
                got.append(await recv_event(ws))
        await asyncio.wait_for(pipeline, 30)
    seqs = [e["seq"] for e in got]
    assert seqs == list(range(1, len(seqs) + 1))
    assert got[0]["type"] == "meeting.created"
    assert {e["meeting_id"] for e in got} == {mid}


async def test_tenant_feed_is_live_and_isolated(gateway: Gateway, keys: Any) -> None:
    async with gateway.client(await keys("alpha")) as a, gateway.client(await keys("beta")) as b:
        url = ws_url(gateway, "/v1/events", ticket=await ticket(a))
        async with websockets.connect(url) as ws:
            await asyncio.sleep(0.2)
            await submit(b, title="beta's")
            mine = (await submit(a, title="alpha's"))["id"]
            first = await recv_event(ws)
            second = await recv_event(ws)
        assert first["meeting_id"] == mine
        assert first["type"] == "meeting.created"
        assert second["meeting_id"] == mine
        assert second["tenant_seq"] == first["tenant_seq"] + 1
        # Resume from a tenant_seq: exactly the rest of alpha's events.
        url = ws_url(gateway, "/v1/events", ticket=await ticket(a), after_seq=first["tenant_seq"])
        async with websockets.connect(url) as ws:
            again = await recv_event(ws)
        assert again["event_id"] == second["event_id"]


async def test_tickets_and_origins_are_checked(gateway: Gateway, keys: Any) -> None:
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        path = f"/v1/meetings/{mid}/events"
        t = await ticket(client)
        async with websockets.connect(ws_url(gateway, path, ticket=t)) as ws:
            assert (await recv_event(ws))["seq"] == 1
        for url, headers in [
            (ws_url(gateway, path, ticket=t), {}),  # already used
            (ws_url(gateway, path, ticket="forged"), {}),
            (ws_url(gateway, path), {}),
            (ws_url(gateway, path, ticket=await ticket(client)), {"Origin": "http://evil.example"}),
        ]:
            with pytest.raises(InvalidStatus) as e:
                async with websockets.connect(url, additional_headers=headers):
                    pass
            assert e.value.response.status_code == 403
        ok = ws_url(gateway, path, ticket=await ticket(client))
        async with websockets.connect(
            ok, additional_headers={"Origin": "http://localhost:8000"}
        ) as ws:
            assert (await recv_event(ws))["seq"] == 1
    async with gateway.client(await keys("beta")) as other:
        url = ws_url(gateway, path, ticket=await ticket(other))
        with pytest.raises(Exception, match=r"4404|no such meeting|403"):
            async with websockets.connect(url) as ws:
                await ws.recv()


async def test_two_gateways_share_work_and_feeds(
    gateways: Any, workers: FakeWorkers, keys: Any, amqp_url: str, namespace: str
) -> None:
    gw1: Gateway = await gateways()
    gw2: Gateway = await gateways()
    key = await keys()
    store = LocalBlobStore(gw1.deps.settings.blob_root)

    async def both_consuming() -> bool:
        conn = await aio_pika.connect(amqp_url)
        try:
            ch = await conn.channel()
            q = await ch.declare_queue(Names(namespace).events, passive=True)
            return q.declaration_result.consumer_count == 2
        finally:
            await conn.close()

    await eventually(both_consuming, what="both gateways consuming events")
    async with gw1.client(key) as c1, gw2.client(key) as c2:
        mid = (await submit(c1))["id"]  # submitted through gateway 1
        url = ws_url(gw2, f"/v1/meetings/{mid}/events", ticket=await ticket(c2))
        async with websockets.connect(url) as ws:  # watched through gateway 2
            pipeline = asyncio.ensure_future(run_pipeline(workers, store))
            got = [await recv_event(ws)]
            while got[-1]["type"] != "meeting.completed":
                got.append(await recv_event(ws))
        await asyncio.wait_for(pipeline, 30)
        assert [e["seq"] for e in got] == list(range(1, len(got) + 1))
        assert (await c1.get(f"/v1/meetings/{mid}")).json()["status"] == "completed"
