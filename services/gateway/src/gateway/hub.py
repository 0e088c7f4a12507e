"""Fan-out of persisted events to this process's WebSocket clients.

One LISTEN connection per gateway receives every NOTIFY (from any gateway) in commit order
and hands each event to the matching subscriptions without ever blocking: a subscription
whose bounded queue is full is marked overflowed and its client is dropped (it reconnects
with its last seq and replays). The same connection listens for new-work notifications to
wake the dispatcher. If the LISTEN connection drops, every subscription is closed for the
same reason: events might have been missed, and a replay fixes that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from gateway.db import Pool, Record, connect
from gateway.repository import events

log = structlog.get_logger("gateway.hub")


@dataclass(eq=False)
class Subscription:
    """One client's interest: a tenant's events, optionally of one meeting."""

    tenant_id: UUID
    meeting_id: UUID | None
    queue: asyncio.Queue[dict[str, Any]]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, message: dict[str, Any]) -> None:
        if self.meeting_id is not None and message["meeting_id"] != str(self.meeting_id):
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class EventHub:
    """LISTENs for events and work notifications; subscriptions get events in order."""

    def __init__(self, dsn: str, pool: Pool, queue_size: int, on_work: Callable[[], None]) -> None:
        self.dsn = dsn
        self.pool = pool
        self.queue_size = queue_size
        self.on_work = on_work
        self.subs: dict[UUID, set[Subscription]] = {}
        self._inbox: asyncio.Queue[str] = asyncio.Queue()
        self.listening = asyncio.Event()

    def subscribe(self, tenant_id: UUID, meeting_id: UUID | None) -> Subscription:
        """Start buffering live events for a client (before it replays the log)."""
        sub = Subscription(tenant_id, meeting_id, asyncio.Queue(self.queue_size))
        self.subs.setdefault(tenant_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to a subscription."""
        self.subs.get(sub.tenant_id, set()).discard(sub)

    def _on_event(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self._inbox.put_nowait(str(payload))

    def _on_work(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self.on_work()

    async def run(self) -> None:
        """Keep a LISTEN connection; re-establish it (dropping subscribers) when it breaks."""
        pump = asyncio.ensure_future(self._pump())
        try:
            while True:
                try:
                    await self._listen_once()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                    log.warning("listen_connection_lost", error=str(e))
                self.listening.clear()
                self._drop_all()
                await asyncio.sleep(1.0)
        finally:
            pump.cancel()

    async def _listen_once(self) -> None:
        conn: asyncpg.Connection[Record] = await connect(self.dsn)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda c: lost.set())
        try:
            await conn.add_listener(events.CHANNEL, self._on_event)
            await conn.add_listener(events.WORK_CHANNEL, self._on_work)
            self.listening.set()
            # Clients that subscribed while nothing listened (between a lost connection and
            # this one) replayed the log but may have missed notifications sent in the gap:
            # drop them too, so they reconnect and replay from their last seq.
            self._drop_all()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=5)
                if not lost.is_set():
                    await conn.execute("SELECT 1")  # notices a silently dead connection
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    def _drop_all(self) -> None:
        for subs in self.subs.values():
            for sub in subs:
                sub.overflowed.set()

    async def _pump(self) -> None:
        while True:
            payload = await self._inbox.get()
            try:
                await self._deliver(json.loads(payload))
            except Exception:
                log.exception("event_fanout_failed")

    async def _deliver(self, note: dict[str, Any]) -> None:
        tenant_id = UUID(note["tenant_id"])
        subs = self.subs.get(tenant_id)
        if not subs:
            return
        message = note.get("event")
        if message is None:
            async with self.pool.acquire() as conn:
                event = await events.by_row_id(conn, int(note["ref"]))
            if event is None:
                return
            message = events.to_message(event)
        for sub in list(subs):
            sub.offer(message)
