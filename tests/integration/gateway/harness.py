"""Test harness: real gateways (uvicorn in the test's event loop), API keys, and test code
playing the workers over the real broker with shared.amqp.publish and shared.messages."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import aio_pika
import httpx
import uvicorn
from aio_pika.abc import AbstractRobustConnection
from fastapi import FastAPI
from gateway.app import create_app
from gateway.auth import create_key
from gateway.db import connect
from gateway.deps import Deps
from gateway.settings import Settings
from shared.amqp import Names, Topology, declare_topology, open_channel, publish
from shared.messages import JOB_ADAPTER, Job, StageEvent

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None]], timeout: float = 15, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout}s (last: {last!r})")


@dataclass
class Gateway:
    """A running gateway: base URL, its app (for its Deps) and the server."""

    app: FastAPI
    server: uvicorn.Server
    task: asyncio.Task[None]
    url: str

    @property
    def deps(self) -> Deps:
        deps: Deps = self.app.state.deps
        return deps

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=15)

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 40)


async def start_gateway(settings: Settings) -> Gateway:
    """Serve a gateway on a free port inside this event loop."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        ws_ping_interval=None,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.ensure_future(server.serve())
    await eventually(lambda: _started(server, task), timeout=20, what="gateway start")
    port = server.servers[0].sockets[0].getsockname()[1]
    return Gateway(app, server, task, f"http://127.0.0.1:{port}")


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # raises what stopped the server
        raise AssertionError("the gateway exited during start-up")
    return bool(server.started)


async def new_key(dsn: str, tenant: str, admin: bool = False) -> str:
    """A fresh API key for ``tenant``."""
    conn = await connect(dsn)
    try:
        key, _ = await create_key(conn, tenant, admin)
    finally:
        await conn.close()
    return key


@dataclass
class FakeWorkers:
    """Test code in the workers' place: takes jobs from stage queues, publishes events."""

    conn: AbstractRobustConnection
    topology: Topology
    seqs: dict[UUID, int] = field(default_factory=dict)

    @classmethod
    async def open(cls, amqp_url: str, namespace: str) -> FakeWorkers:
        conn = await aio_pika.connect_robust(amqp_url)
        channel = await open_channel(conn, prefetch=10)
        return cls(conn, await declare_topology(channel, Names(namespace)))

    async def close(self) -> None:
        await self.conn.close()

    async def take(self, stage: str, timeout: float = 15) -> Job:
        """The next job on a stage queue (basic.get, so no consumer is registered)."""
        queue = self.topology.stage_queues[stage]  # type: ignore[index]

        async def get() -> Job | None:
            msg = await queue.get(no_ack=True, fail=False)
            return JOB_ADAPTER.validate_json(msg.body) if msg else None

        return await eventually(get, timeout, what=f"a {stage} job")

    async def nothing_queued(self, stage: str) -> bool:
        queue = self.topology.stage_queues[stage]  # type: ignore[index]
        msg = await queue.get(no_ack=False, fail=False)
        if msg is None:
            return True
        await msg.nack(requeue=True)
        return False

    def event(self, job: Job, cls: type[StageEvent], **fields: Any) -> StageEvent:
        """An event of ``job``'s dispatch with the next per-dispatch seq."""
        self.seqs[job.dispatch_id] = self.seqs.get(job.dispatch_id, 0) + 1
        return cls(
            job_id=job.job_id,
            dispatch_id=job.dispatch_id,
            stage=job.stage,
            seq=self.seqs[job.dispatch_id],
            worker="test",
            **fields,
        )

    async def emit(self, event: StageEvent) -> StageEvent:
        await publish(self.topology.events, event, routing_key=event.type)
        return event

    async def send(self, job: Job, cls: type[StageEvent], **fields: Any) -> StageEvent:
        return await self.emit(self.event(job, cls, **fields))
