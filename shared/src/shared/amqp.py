"""Broker topology and a confirming publisher.

Topology (``ns`` is the namespace, ``minuta`` by default):

- ``ns.jobs`` direct exchange → one durable quorum queue ``ns.<stage>`` per stage, with
  ``x-delivery-limit`` and dead-lettering to ``ns.dlx``;
- ``ns.events`` topic exchange → the gateway's quorum queue ``ns.events`` (routing key = type);
- ``ns.control`` fanout exchange → one exclusive queue per worker (cancellation);
- ``ns.dlx`` fanout exchange → quorum queue ``ns.dead``.

Everything is declared idempotently by every service at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustConnection,
    DeliveryMode,
    ExchangeType,
)
from aio_pika.exceptions import DeliveryError

from shared.errors import RetryableError
from shared.messages import Message, Stage


@dataclass(frozen=True)
class Names:
    """Exchange and queue names under one namespace."""

    ns: str = "minuta"

    @property
    def jobs(self) -> str:
        return f"{self.ns}.jobs"

    @property
    def events(self) -> str:
        return f"{self.ns}.events"

    @property
    def control(self) -> str:
        return f"{self.ns}.control"

    @property
    def dlx(self) -> str:
        return f"{self.ns}.dlx"

    @property
    def dead(self) -> str:
        return f"{self.ns}.dead"

    def stage_queue(self, stage: Stage | str) -> str:
        return f"{self.ns}.{Stage(stage).value}"


@dataclass
class Topology:
    names: Names
    jobs: AbstractExchange
    events: AbstractExchange
    control: AbstractExchange
    dlx: AbstractExchange
    stage_queues: dict[Stage, AbstractQueue]
    events_queue: AbstractQueue
    dead_queue: AbstractQueue


def _quorum_args(names: Names, delivery_limit: int) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": names.dlx,
    }


async def declare_topology(
    channel: AbstractChannel, names: Names, *, delivery_limit: int = 5
) -> Topology:
    """Declare every exchange and queue (idempotent; safe from every service at once)."""
    dlx = await channel.declare_exchange(names.dlx, ExchangeType.FANOUT, durable=True)
    dead = await channel.declare_queue(
        names.dead, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead.bind(dlx)
    jobs = await channel.declare_exchange(names.jobs, ExchangeType.DIRECT, durable=True)
    queues: dict[Stage, AbstractQueue] = {}
    for stage in Stage:
        q = await channel.declare_queue(
            names.stage_queue(stage), durable=True, arguments=_quorum_args(names, delivery_limit)
        )
        await q.bind(jobs, routing_key=stage.value)
        queues[stage] = q
    events = await channel.declare_exchange(names.events, ExchangeType.TOPIC, durable=True)
    events_q = await channel.declare_queue(
        names.events, durable=True, arguments=_quorum_args(names, delivery_limit)
    )
    await events_q.bind(events, routing_key="#")
    control = await channel.declare_exchange(names.control, ExchangeType.FANOUT, durable=True)
    return Topology(names, jobs, events, control, dlx, queues, events_q, dead)


async def connect(url: str, *, name: str) -> AbstractRobustConnection:
    """A robust connection: reconnects, re-declares and re-subscribes after broker restarts."""
    return await aio_pika.connect_robust(url, client_properties={"connection_name": name})


async def open_channel(conn: AbstractRobustConnection, *, prefetch: int = 1) -> AbstractChannel:
    """A channel with publisher confirms, returned messages raised as errors, and prefetch."""
    channel = await conn.channel(publisher_confirms=True, on_return_raises=True)
    await channel.set_qos(prefetch_count=prefetch)
    return channel


class UnroutableError(RetryableError):
    """The broker returned or refused a published message."""

    code = "unroutable"


async def publish(
    exchange: AbstractExchange,
    message: Message,
    routing_key: str,
    *,
    headers: dict[str, Any] | None = None,
) -> None:
    """Publish persistently with ``mandatory``; returns once the broker confirmed it.

    A message no queue accepts (returned) or the broker refuses (nack) raises
    ``UnroutableError`` instead of passing silently.
    """
    body = message.model_dump_json().encode()
    msg = aio_pika.Message(
        body,
        content_type="application/json",
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=str(message.event_id),
        type=getattr(message, "type", None),
        headers=headers or {},
    )
    try:
        await exchange.publish(msg, routing_key=routing_key, mandatory=True)
    except DeliveryError as e:
        raise UnroutableError(
            f"broker did not accept message {message.event_id} for {exchange.name}/{routing_key}"
        ) from e
