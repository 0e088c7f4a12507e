"""WebSocket feeds: one meeting's events, or all of a tenant's.

Auth happens here (HTTP middleware does not cover WebSockets): ``?ticket=`` from
``POST /v1/ws-ticket`` (single use, short-lived, tied to the key that asked for it), and the
Origin must be allowed: listed, or the gateway's own (its host:port is the request's
``Host``); no Origin is fine for non-browser clients. An open feed re-checks its key every
``ws_key_check_s`` and closes with 1008 once it is revoked.

``?after_seq=N`` replays the log after N (the meeting's ``seq``, or the tenant's
``tenant_seq`` on ``/v1/events``), then goes live. No gap and no duplicate: we subscribe
first (buffering), replay, then drain the buffer skipping what the replay sent.

A client that cannot keep up is dropped (close code 1013) and reconnects with its last
seq: live events wait in a per-client outbox bounded in bytes (``ws_max_pending_bytes``),
and one send may block (the socket applies back-pressure, see ``gateway.__main__``) at
most ``ws_send_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from gateway import metrics
from gateway.auth import FeedGrant, issue_ticket, key_active, redeem_ticket
from gateway.deps import AppDeps, Caller, Deps
from gateway.hub import Subscription
from gateway.repository import events, meetings

router = APIRouter(tags=["feeds"])
_PAGE = 500
CLOSE_POLICY = 1008
CLOSE_OVERLOADED = 1013
CLOSE_NOT_FOUND = 4404


@router.post("/v1/ws-ticket", summary="A short-lived, single-use WebSocket ticket")
async def ws_ticket(*, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """Exchange an API key for a ticket to put in a WebSocket URL (``?ticket=``)."""
    async with deps.pool.acquire() as conn:
        ticket = await issue_ticket(conn, who, deps.settings.ws_ticket_ttl_s)
    return {"ticket": ticket, "expires_in": deps.settings.ws_ticket_ttl_s}


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """No Origin (not a browser), a listed one, or the gateway's own (same host:port)."""
    if origin is None or origin in allowed:
        return True
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or not host:
        return False
    default = 443 if parts.scheme == "https" else 80
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    ours = {f"{netloc}:{port or default}".lower()}
    if port is None or port == default:
        ours.add(netloc.lower())
    return host.lower() in ours


async def _authorize(ws: WebSocket, deps: Deps) -> FeedGrant | None:
    origin = ws.headers.get("origin")
    if not origin_allowed(origin, ws.headers.get("host"), deps.settings.allowed_origins):
        await ws.close(code=CLOSE_POLICY, reason="origin not allowed")
        return None
    async with deps.pool.acquire() as conn:
        grant = await redeem_ticket(conn, ws.query_params.get("ticket"))
    if grant is None:
        await ws.close(code=CLOSE_POLICY, reason="missing, expired or used ticket, or revoked key")
    return grant


def _after(ws: WebSocket) -> int | None:
    raw = ws.query_params.get("after_seq")
    return int(raw) if raw is not None and raw.isdigit() else None


@router.websocket("/v1/meetings/{meeting_id}/events")
async def meeting_feed(ws: WebSocket, meeting_id: UUID, deps: AppDeps) -> None:
    """Replay then live events of one meeting."""
    grant = await _authorize(ws, deps)
    if grant is None:
        return
    async with deps.pool.acquire() as conn:
        m = await meetings.get(conn, meeting_id, grant.tenant_id)
    if m is None:
        await ws.close(code=CLOSE_NOT_FOUND, reason="no such meeting")
        return
    await _serve(ws, deps, grant, meeting_id, _after(ws) or 0)


@router.websocket("/v1/events")
async def tenant_feed(ws: WebSocket, deps: AppDeps) -> None:
    """Replay (with ``after_seq`` = tenant_seq) then live events of all the tenant's meetings."""
    grant = await _authorize(ws, deps)
    if grant is None:
        return
    after = _after(ws)
    if after is None:  # live only: start after the newest persisted event
        async with deps.pool.acquire() as conn:
            after = await events.tenant_last_seq(conn, grant.tenant_id)
    await _serve(ws, deps, grant, None, after)


async def _serve(
    ws: WebSocket, deps: Deps, grant: FeedGrant, meeting_id: UUID | None, after: int
) -> None:
    await ws.accept()
    sub = deps.hub.subscribe(grant.tenant_id, meeting_id)
    metrics.WS_CONNECTIONS.inc()
    reader = asyncio.ensure_future(_drain_client(ws))
    try:
        feed = _Feed(ws, deps, sub, "seq" if meeting_id else "tenant_seq", after, grant.key_id)
        await feed.run(meeting_id, reader)
    except (WebSocketDisconnect, TimeoutError, RuntimeError):
        pass
    finally:
        reader.cancel()
        deps.hub.unsubscribe(sub)
        metrics.WS_CONNECTIONS.dec()
        if ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), deps.settings.ws_send_timeout_s)


async def _drain_client(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a disconnect is noticed."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


def _dumps(message: dict[str, Any]) -> str:
    # The same encoding as Starlette's send_json, done once so its size is known.
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class _Feed:
    """Replay, then live: a pump moves hub events to a byte-bounded outbox, a sender drains it."""

    def __init__(
        self, ws: WebSocket, deps: Deps, sub: Subscription, key: str, after: int, key_id: UUID
    ) -> None:
        self.ws, self.deps, self.sub, self.key, self.last = ws, deps, sub, key, after
        self.key_id = key_id
        self.settings = deps.settings
        self.outbox: deque[tuple[str, str]] = deque()
        self.pending_bytes = 0
        self.queued = asyncio.Event()

    async def _send_text(self, text: str, occurred_at: str | None) -> None:
        await asyncio.wait_for(self.ws.send_text(text), self.settings.ws_send_timeout_s)
        if occurred_at is not None:
            metrics.WS_EVENTS_SENT.inc()
            occurred = datetime.fromisoformat(occurred_at).timestamp()
            metrics.EVENT_LAG.labels("delivered").observe(max(0.0, time.time() - occurred))

    async def replay(self, meeting_id: UUID | None) -> None:
        while True:
            async with self.deps.pool.acquire() as conn:
                if meeting_id is not None:
                    page = await events.for_meeting(conn, meeting_id, self.last, _PAGE)
                else:
                    page = await events.for_tenant(conn, self.sub.tenant_id, self.last, _PAGE)
            for event in page:
                message = events.to_message(event)
                if message[self.key] > self.last:
                    await self._send_text(_dumps(message), message["occurred_at"])
                    self.last = message[self.key]
            if len(page) < _PAGE:
                return

    def _enqueue(self, message: dict[str, Any]) -> None:
        if message[self.key] <= self.last:
            return  # already sent by the replay
        self.last = message[self.key]
        text = _dumps(message)
        self.outbox.append((text, message["occurred_at"]))
        self.pending_bytes += len(text)
        self.queued.set()

    async def _sender(self) -> None:
        """Send the outbox in order; a ping when idle for ``ws_ping_s``."""
        while True:
            if not self.outbox:
                self.queued.clear()
                try:
                    await asyncio.wait_for(self.queued.wait(), self.settings.ws_ping_s)
                except TimeoutError:
                    await self._send_text('{"type":"ping"}', None)
                continue
            text, occurred_at = self.outbox[0]
            await self._send_text(text, occurred_at)
            self.outbox.popleft()
            self.pending_bytes -= len(text)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ws.close(code=code, reason=reason), 5)

    async def _key_revoked(self) -> bool:
        async with self.deps.pool.acquire() as conn:
            return not await key_active(conn, self.key_id)

    async def run(self, meeting_id: UUID | None, reader: asyncio.Future[None]) -> None:
        await self.replay(meeting_id)
        sender = asyncio.ensure_future(self._sender())
        overflow = asyncio.ensure_future(self.sub.overflowed.wait())
        check_s = self.settings.ws_key_check_s
        next_check = time.monotonic() + check_s
        try:
            while True:
                getter = asyncio.ensure_future(self.sub.queue.get())
                waiting: set[asyncio.Future[Any]] = {getter, reader, overflow, sender}
                done, _ = await asyncio.wait(
                    waiting, timeout=check_s, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    self._enqueue(getter.result())
                else:
                    getter.cancel()
                if reader in done:
                    return
                if sender in done:
                    sender.result()  # a send timed out or the socket failed: raises
                    return
                if overflow in done or self.pending_bytes > self.settings.ws_max_pending_bytes:
                    sender.cancel()
                    await self._close(CLOSE_OVERLOADED, "client too slow; reconnect")
                    return
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + check_s
                    if await self._key_revoked():
                        sender.cancel()
                        await self._close(CLOSE_POLICY, "API key revoked")
                        return
        finally:
            overflow.cancel()
            sender.cancel()
