"""The few calls of Minuta's public API the load generator makes, in one place.

Everything that depends on the gateway's wire format (paths, field names) lives here so
that the load generator itself reads as timing and bookkeeping.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

FINAL = {"completed", "failed", "cancelled"}


@dataclass
class Submitted:
    meeting_id: str
    started: float  # wall clock (time.time) before the request
    answered: float  # wall clock after the response
    status_code: int
    body: dict[str, Any]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def submit(
    client: httpx.AsyncClient, key: str, audio: bytes, title: str, **options: Any
) -> Submitted:
    """Upload one meeting; raises for any non-2xx answer."""
    files = {"file": ("bench.wav", audio, "audio/wav")}
    data = {"title": title, **{k: str(v) for k, v in options.items()}}
    t0 = time.time()
    resp = await client.post("/v1/meetings", headers=auth(key), files=files, data=data)
    t1 = time.time()
    if resp.status_code >= 300:
        raise RuntimeError(f"submission failed: {resp.status_code} {resp.text[:300]}")
    body = resp.json()
    return Submitted(str(body["id"]), t0, t1, resp.status_code, body)


async def ticket(client: httpx.AsyncClient, key: str) -> str:
    """A short-lived WebSocket ticket."""
    resp = await client.post("/v1/ws-ticket", headers=auth(key))
    resp.raise_for_status()
    return str(resp.json()["ticket"])


def ws_url(base: str, path: str, ticket_: str, after: int | None = None) -> str:
    url = base.replace("http://", "ws://", 1) + f"{path}?ticket={ticket_}"
    if after is not None:
        url += f"&after_seq={after}"
    return url


async def connect_feed(
    client: httpx.AsyncClient, base: str, key: str, meeting_id: str | None = None, **kw: Any
) -> ClientConnection:
    """Open the tenant feed, or one meeting's feed."""
    path = "/v1/events" if meeting_id is None else f"/v1/meetings/{meeting_id}/events"
    t = await ticket(client, key)
    return await websockets.connect(ws_url(base, path, t), max_size=2**22, **kw)


@dataclass
class FeedEvent:
    """The fields of a feed message the benchmarks look at."""

    meeting_id: str
    seq: int | None
    tenant_seq: int | None
    type: str
    status: str | None
    occurred_at: float | None
    received: float


def parse(raw: str | bytes, received: float) -> FeedEvent | None:
    """A feed message as a ``FeedEvent``; None for control frames (pings, hellos)."""
    msg = json.loads(raw)
    meeting_id = msg.get("meeting_id") or msg.get("job_id")
    if not meeting_id or "type" not in msg:
        return None
    occurred = msg.get("occurred_at")
    return FeedEvent(
        meeting_id=str(meeting_id),
        seq=msg.get("seq"),
        tenant_seq=msg.get("tenant_seq"),
        type=str(msg["type"]),
        status=msg.get("status"),
        occurred_at=datetime.fromisoformat(occurred).timestamp() if occurred else None,
        received=received,
    )
