"""WebSocket feeds: one meeting's events, or all of a tenant's.

Auth happens here (HTTP middleware does not cover WebSockets): ``?ticket=`` from
``POST /v1/ws-ticket`` (single use, short-lived), and the Origin must be allowed (no Origin
is fine for non-browser clients). ``?after_seq=N`` replays the log after N — the meeting's
``seq``, or the tenant's ``tenant_seq`` on ``/v1/events`` — then goes live. No gap and no
duplicate: we subscribe first (buffering), replay, then drain the buffer skipping what the
replay already sent. A client that cannot keep up overflows its bounded buffer and is
dropped (close code 1013); it reconnects with its last seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from gateway import metrics
from gateway.auth import issue_ticket, redeem_ticket
from gateway.deps import AppDeps, Caller, Deps
from gateway.hub import Subscription
from gateway.repository import events, meetings

router = APIRouter(tags=["feeds"])
_PAGE = 500
_SEND_TIMEOUT_S = 10.0
CLOSE_POLICY = 1008
CLOSE_OVERLOADED = 1013
CLOSE_NOT_FOUND = 4404


@router.post("/v1/ws-ticket", summary="A short-lived, single-use WebSocket ticket")
async def ws_ticket(*, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """Exchange an API key for a ticket to put in a WebSocket URL (``?ticket=``)."""
    async with deps.pool.acquire() as conn:
        ticket = await issue_ticket(conn, who.tenant_id, deps.settings.ws_ticket_ttl_s)
    return {"ticket": ticket, "expires_in": deps.settings.ws_ticket_ttl_s}


async def _authorize(ws: WebSocket, deps: Deps) -> UUID | None:
    origin = ws.headers.get("origin")
    if origin is not None and origin not in deps.settings.allowed_origins:
        await ws.close(code=CLOSE_POLICY, reason="origin not allowed")
        return None
    async with deps.pool.acquire() as conn:
        tenant_id = await redeem_ticket(conn, ws.query_params.get("ticket"))
    if tenant_id is None:
        await ws.close(code=CLOSE_POLICY, reason="missing, expired or used ticket")
    return tenant_id


def _after(ws: WebSocket) -> int | None:
    raw = ws.query_params.get("after_seq")
    return int(raw) if raw is not None and raw.isdigit() else None


@router.websocket("/v1/meetings/{meeting_id}/events")
async def meeting_feed(ws: WebSocket, meeting_id: UUID, deps: AppDeps) -> None:
    """Replay then live events of one meeting."""
    tenant_id = await _authorize(ws, deps)
    if tenant_id is None:
        return
    async with deps.pool.acquire() as conn:
        m = await meetings.get(conn, meeting_id, tenant_id)
    if m is None:
        await ws.close(code=CLOSE_NOT_FOUND, reason="no such meeting")
        return
    await _serve(ws, deps, tenant_id, meeting_id, _after(ws) or 0)


@router.websocket("/v1/events")
async def tenant_feed(ws: WebSocket, deps: AppDeps) -> None:
    """Replay (with ``after_seq`` = tenant_seq) then live events of all the tenant's meetings."""
    tenant_id = await _authorize(ws, deps)
    if tenant_id is None:
        return
    after = _after(ws)
    if after is None:  # live only: start after the newest persisted event
        async with deps.pool.acquire() as conn:
            after = await events.tenant_last_seq(conn, tenant_id)
    await _serve(ws, deps, tenant_id, None, after)


async def _serve(
    ws: WebSocket, deps: Deps, tenant_id: UUID, meeting_id: UUID | None, after: int
) -> None:
    await ws.accept()
    sub = deps.hub.subscribe(tenant_id, meeting_id)
    metrics.WS_CONNECTIONS.inc()
    reader = asyncio.ensure_future(_drain_client(ws))
    try:
        feed = _Feed(ws, deps, sub, "seq" if meeting_id else "tenant_seq", after)
        await feed.run(meeting_id, reader)
    except (WebSocketDisconnect, TimeoutError, RuntimeError):
        pass
    finally:
        reader.cancel()
        deps.hub.unsubscribe(sub)
        metrics.WS_CONNECTIONS.dec()
        if ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close()


async def _drain_client(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a disconnect is noticed."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


class _Feed:
    def __init__(self, ws: WebSocket, deps: Deps, sub: Subscription, key: str, after: int) -> None:
        self.ws, self.deps, self.sub, self.key, self.last = ws, deps, sub, key, after

    async def send(self, message: dict[str, Any]) -> None:
        if message[self.key] <= self.last:
            return  # already sent by the replay
        await asyncio.wait_for(self.ws.send_json(message), _SEND_TIMEOUT_S)
        self.last = message[self.key]
        metrics.WS_EVENTS_SENT.inc()
        occurred = datetime.fromisoformat(message["occurred_at"]).timestamp()
        metrics.EVENT_LAG.labels("delivered").observe(max(0.0, time.time() - occurred))

    async def replay(self, meeting_id: UUID | None) -> None:
        while True:
            async with self.deps.pool.acquire() as conn:
                if meeting_id is not None:
                    page = await events.for_meeting(conn, meeting_id, self.last, _PAGE)
                else:
                    page = await events.for_tenant(conn, self.sub.tenant_id, self.last, _PAGE)
            for event in page:
                await self.send(events.to_message(event))
            if len(page) < _PAGE:
                return

    async def run(self, meeting_id: UUID | None, reader: asyncio.Future[None]) -> None:
        await self.replay(meeting_id)
        ping_s = self.deps.settings.ws_ping_s
        overflow = asyncio.ensure_future(self.sub.overflowed.wait())
        try:
            while not reader.done():
                if self.sub.overflowed.is_set():
                    await self.ws.close(code=CLOSE_OVERLOADED, reason="client too slow; reconnect")
                    return
                getter = asyncio.ensure_future(self.sub.queue.get())
                waiting: set[asyncio.Future[Any]] = {getter, reader, overflow}
                done, _ = await asyncio.wait(
                    waiting, timeout=ping_s, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    await self.send(getter.result())
                    continue
                getter.cancel()
                if not done:
                    await asyncio.wait_for(self.ws.send_json({"type": "ping"}), _SEND_TIMEOUT_S)
        finally:
            overflow.cancel()
