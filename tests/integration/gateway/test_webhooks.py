"""Webhooks: signed deliveries a receiver can verify, retries, and the delivery log."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from shared.messages import StageFailed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.integration.gateway.harness import FakeWorkers, Gateway, eventually
from tests.integration.gateway.test_events import submit

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook receiver on a free local port; fails the first request on purpose."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], str]] = []
        self.fail_first = True

    async def hook(self, request: Request) -> Response:
        body = (await request.body()).decode()
        self.requests.append((dict(request.headers), body))
        if self.fail_first:
            self.fail_first = False
            return Response(status_code=503)
        return Response(status_code=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = Starlette(routes=[Route("/hook", rec.hook, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", ws="none", lifespan="off"
        )
    )
    task = asyncio.ensure_future(server.serve())

    async def started() -> bool:
        return bool(server.started)

    await eventually(started, what="receiver start")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield rec, f"http://127.0.0.1:{port}/hook"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def test_signed_webhook_is_retried_and_verifiable(
    gateway: Gateway, workers: FakeWorkers, keys: Any, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    async with gateway.client(await keys()) as client:
        resp = await client.post("/v1/webhooks", json={"url": url, "events": ["meeting.failed"]})
        assert resp.status_code == 201, resp.text
        secret = resp.json()["secret"]
        assert secret
        again = await client.post("/v1/webhooks", json={"url": url + "?2", "events": ["x"]})
        assert again.json()["secret"] is None  # shown once
        bad = await client.post("/v1/webhooks", json={"url": "http://169.254.169.254/"})
        assert bad.status_code == 422

        mid = (await submit(client))["id"]
        job = await workers.take("ingest")
        await workers.send(job, StageFailed, code="bad_audio", reason="not audio", retryable=False)

        async def two_requests() -> bool:
            return len(rec.requests) >= 2

        await eventually(two_requests, what="a failed and a retried delivery")
        headers, body = rec.requests[-1]
        ts, signature = headers["minuta-timestamp"], headers["minuta-signature"]
        expected = hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
        assert signature == f"v1={expected}"
        event = json.loads(body)
        assert event["type"] == "meeting.failed"
        assert event["meeting_id"] == mid
        assert event["data"]["reason"] == "not audio"
        assert headers["minuta-event"] == "meeting.failed"

        async def delivered() -> Any:
            items = (await client.get("/v1/webhooks/deliveries")).json()["items"]
            return items if items and items[0]["state"] == "delivered" else None

        items = await delivered() or await eventually(delivered, what="delivered state")
        assert items[0]["attempts"] == 2
        assert items[0]["last_status"] == 204
