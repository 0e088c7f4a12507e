"""The gateway's RabbitMQ side, built to degrade: the gateway starts and serves without a
broker, keeps trying to connect, and starts its consumers once one is there.

aio-pika's robust connection takes over after the first successful connect (reconnects,
re-declares, re-subscribes).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from shared.amqp import Names, Topology, connect, declare_topology, open_channel, publish
from shared.messages import Message, Stage

from gateway.settings import Settings

log = structlog.get_logger("gateway.broker")
OnReady = Callable[["Broker"], Awaitable[None]]


class BrokerUnavailable(Exception):
    """No broker connection right now (the gateway runs degraded)."""


class Broker:
    """Connection, publish channel (confirms), consumer channel, and queue inspection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.names = Names(settings.namespace)
        self.conn: AbstractRobustConnection | None = None
        self.publish_channel: AbstractChannel | None = None
        self.consume_channel: AbstractChannel | None = None
        self.topology: Topology | None = None
        #: The same topology declared on the consumer channel (its queues consume there).
        self.consume_topology: Topology | None = None
        self.last_error: str | None = "not connected yet"
        self._counts: dict[str, tuple[float, int, int]] = {}

    @property
    def available(self) -> bool:
        """True while the connection and the publish channel are open."""
        return (
            self.conn is not None
            and not self.conn.is_closed
            and self.publish_channel is not None
            and not self.publish_channel.is_closed
        )

    async def run(self, on_ready: OnReady) -> None:
        """Connect (retrying forever), declare the topology, then hand over to ``on_ready``."""
        while True:
            try:
                self.conn = await connect(self.settings.amqp_url, name="gateway")
                self.publish_channel = await open_channel(self.conn, prefetch=1)
                self.consume_channel = await open_channel(
                    self.conn, prefetch=self.settings.events_prefetch
                )
                self.topology = await declare_topology(
                    self.publish_channel, self.names, delivery_limit=self.settings.delivery_limit
                )
                self.consume_topology = await declare_topology(
                    self.consume_channel, self.names, delivery_limit=self.settings.delivery_limit
                )
                break
            except Exception as e:
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("broker_unavailable", error=self.last_error)
                await self._close_quietly()
                await asyncio.sleep(self.settings.broker_retry_s)
        self.last_error = None
        log.info("broker_connected", namespace=self.names.ns)
        await on_ready(self)

    async def _close_quietly(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()
        self.conn = None
        self.publish_channel = self.consume_channel = None

    async def close(self) -> None:
        """Close the connection (consumers stop)."""
        await self._close_quietly()

    async def publish_job(self, message: Message, stage: Stage | str) -> None:
        """Publish a stage job (confirmed); raises ``BrokerUnavailable`` when degraded."""
        if not self.available or self.topology is None:
            raise BrokerUnavailable(self.last_error or "broker unavailable")
        await publish(self.topology.jobs, message, routing_key=Stage(stage).value)

    async def publish_control(self, message: Message) -> None:
        """Fan a control message out to every worker."""
        if not self.available or self.topology is None:
            raise BrokerUnavailable(self.last_error or "broker unavailable")
        await publish(self.topology.control, message, routing_key="")

    async def publish_raw(self, body: bytes, routing_key: str, headers: dict[str, Any]) -> None:
        """Re-publish a stored message body to the jobs exchange (dead-letter re-queue)."""
        if not self.available or self.topology is None:
            raise BrokerUnavailable(self.last_error or "broker unavailable")
        msg = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=headers,
        )
        await self.topology.jobs.publish(msg, routing_key=routing_key, mandatory=True)

    async def queue_counts(self, stage: Stage | str, max_age_s: float = 1.0) -> tuple[int, int]:
        """(consumers, ready messages) of a stage queue, cached for ``max_age_s``."""
        name = self.names.stage_queue(stage)
        cached = self._counts.get(name)
        if cached and time.monotonic() - cached[0] < max_age_s:
            return cached[1], cached[2]
        if not self.available or self.conn is None:
            raise BrokerUnavailable(self.last_error or "broker unavailable")
        # A passive declare of a missing queue closes its channel: use a throwaway one.
        try:
            channel = await self.conn.channel(publisher_confirms=False)
            try:
                underlay = await channel.get_underlay_channel()
                ok = await underlay.queue_declare(name, passive=True)
            finally:
                if not channel.is_closed:
                    await channel.close()
        except Exception as e:
            raise BrokerUnavailable(f"cannot inspect {name}: {e}") from e
        consumers, ready = int(ok.consumer_count or 0), int(ok.message_count or 0)
        self._counts[name] = (time.monotonic(), consumers, ready)
        return consumers, ready
