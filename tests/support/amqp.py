"""Test helpers for the real RabbitMQ: declare a namespace, publish jobs, collect events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from shared.amqp import Names, Topology, declare_topology, open_channel, publish
from shared.messages import AnyMessage, Message, StageEvent, decode


@dataclass
class Broker:
    """A test's view of one namespace: publish jobs, read events and dead letters."""

    conn: AbstractRobustConnection
    channel: AbstractChannel
    topology: Topology
    events: list[StageEvent] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def publish_job(self, job: Message, stage: str) -> None:
        await publish(self.topology.jobs, job, routing_key=stage)

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            event = decode(message.body)
            assert isinstance(event, StageEvent)
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def collect_events(self) -> None:
        await self.topology.events_queue.consume(self._on_event)

    async def wait_for(
        self, predicate: Callable[[list[StageEvent]], bool], timeout: float = 20
    ) -> list[StageEvent]:
        """Wait until ``predicate(events)`` holds; fail with what arrived if it never does."""

        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.events))

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            types = [(str(e.job_id)[:8], e.type) for e in self.events]
            raise AssertionError(f"condition not met in {timeout}s; events: {types}") from None
        return self.events

    def of(self, job_id: object, type_: str | None = None) -> list[StageEvent]:
        return [e for e in self.events if e.job_id == job_id and (type_ is None or e.type == type_)]

    async def dead_letters(self, expected: int, timeout: float = 20) -> list[AnyMessage | bytes]:
        """Read ``expected`` messages from the dead-letter queue (acking them)."""
        out: list[AnyMessage | bytes] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            msg = await self.topology.dead_queue.get(fail=False)
            if msg is None:
                await asyncio.sleep(0.1)
                continue
            await msg.ack()
            try:
                out.append(decode(msg.body))
            except ValueError:
                out.append(msg.body)
        return out


@asynccontextmanager
async def broker(amqp_url: str, namespace: str, delivery_limit: int = 5) -> AsyncIterator[Broker]:
    conn = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await open_channel(conn, prefetch=50)
        topo = await declare_topology(channel, Names(namespace), delivery_limit=delivery_limit)
        yield Broker(conn, channel, topo)
    finally:
        await conn.close()
