"""``create_app(settings)``: the FastAPI app with its lifespan (pool, broker, loops)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from shared.storage_s3 import make_blob_store

from gateway import handlers, ws
from gateway.api import admin, exports, health, meetings, webhooks
from gateway.auth import RateLimiter
from gateway.background import Collector
from gateway.broker import Broker
from gateway.db import create_pool
from gateway.deps import Deps
from gateway.hub import EventHub
from gateway.migrate import migrate
from gateway.orchestrator.consumers import consume_dead_letters, consume_events
from gateway.orchestrator.core import Orchestrator
from gateway.orchestrator.dispatcher import Dispatcher
from gateway.orchestrator.sweeper import Sweeper
from gateway.retention import Retention
from gateway.settings import Settings
from gateway.web import mount_web
from gateway.webhooks import WebhookSender, enqueue_webhooks

log = structlog.get_logger("gateway.app")


class _Tasks:
    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []
        self.names: dict[asyncio.Task[Any], str] = {}

    def spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(lambda t: _report(name, t))
        self.names[task] = name
        self.tasks.append(task)

    async def cancel_all(self, grace_s: float = 5.0) -> None:
        """Cancel every loop; a loop stuck in cleanup is logged, not waited for forever."""
        for task in reversed(self.tasks):
            task.cancel()
        if not self.tasks:
            return
        _, stuck = await asyncio.wait(self.tasks, timeout=grace_s)
        for task in stuck:
            log.warning("background_task_stuck_at_shutdown", task=self.names[task])


def _report(name: str, task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background_task_died", task=name, error=repr(task.exception()))


def create_app(settings: Settings) -> FastAPI:
    """Build the gateway app; resources open in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await migrate(settings.database_url)
        pool = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        store = make_blob_store(settings)
        broker = Broker(settings)
        orch = Orchestrator(pool, settings, store, broker)
        orch.record_hooks.append(enqueue_webhooks)
        dispatcher = Dispatcher(orch)
        hub = EventHub(settings.database_url, pool, settings.ws_queue_size, dispatcher.wake.set)
        limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
        app.state.deps = Deps(settings, pool, store, broker, orch, dispatcher, hub, limiter)
        tasks = _Tasks()

        async def on_broker_ready(b: Broker) -> None:
            assert b.consume_topology is not None
            tasks.spawn(consume_events(orch, b.consume_topology.events_queue), "events")
            tasks.spawn(consume_dead_letters(orch, b.consume_topology.dead_queue), "dead")
            dispatcher.wake.set()

        tasks.spawn(hub.run(), "hub")
        tasks.spawn(broker.run(on_broker_ready), "broker")
        tasks.spawn(dispatcher.run(), "dispatcher")
        tasks.spawn(Sweeper(orch).run(), "sweeper")
        tasks.spawn(WebhookSender(pool, settings).run(), "webhooks")
        tasks.spawn(Retention(pool, settings, store).run(), "retention")
        tasks.spawn(Collector(app.state.deps).run(), "metrics")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.listening.wait(), 5)
        log.info("gateway_started", namespace=settings.namespace)
        try:
            yield
        finally:
            await tasks.cancel_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(broker.close(), 5)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pool.close(), 5)
            await store.close()
            log.info("gateway_stopped")

    app = FastAPI(
        title="Minuta gateway",
        version="1.0",
        description="Meeting recordings to transcripts and minutes. See docs/api.md.",
        lifespan=lifespan,
    )
    handlers.install(app)
    for module in (meetings, exports, admin, webhooks, health):
        app.include_router(module.router)
    app.include_router(ws.router)
    mount_web(app)
    return app
