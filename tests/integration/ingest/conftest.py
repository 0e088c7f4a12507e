"""Fixtures for the ingest worker against the real RabbitMQ and a local HTTP source server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ingest.handlers import engine_of, make_handler
from ingest.settings import Settings
from shared.messages import IngestJob, Stage, StageEvent
from shared.storage import LocalBlobStore
from shared.worker import Worker

from tests.integration.ingest.httpsource import SourceServer, source_server
from tests.support.amqp import Broker, broker

FINAL = ("ingest.completed", "stage.failed", "stage.cancelled")


@pytest.fixture
def http_source() -> Iterator[SourceServer]:
    with source_server() as server:
        yield server


@pytest.fixture
async def bus(amqp_url: str, namespace: str) -> AsyncIterator[Broker]:
    async with broker(amqp_url, namespace) as b:
        await b.collect_events()
        yield b


class Ingest:
    """Runs an in-process ingest worker and submits jobs to it through the broker."""

    def __init__(self, bus: Broker, settings: Settings) -> None:
        self.bus = bus
        self.settings = settings
        self.store = LocalBlobStore(settings.blob_root)
        self.worker: Worker | None = None

    async def start(self, **overrides: Any) -> None:
        settings = self.settings.model_copy(update=overrides)
        self.settings = settings
        self.store = LocalBlobStore(settings.blob_root)
        self.worker = Worker(
            Stage.INGEST, make_handler(settings), settings, engine_name=engine_of(settings)
        )
        await self.worker.start()

    async def upload(self, path: Path) -> str:
        key = f"uploads/{uuid.uuid4()}/{path.name}"
        await self.store.put_file(key, path)
        return key

    async def submit(self, **fields: Any) -> IngestJob:
        job = IngestJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), **fields)
        await self.bus.publish_job(job, "ingest")
        return job

    async def run(self, timeout: float = 60, **fields: Any) -> tuple[StageEvent, list[StageEvent]]:
        """Submit a job and wait for its final event; return it and all its events."""
        job = await self.submit(**fields)
        await self.bus.wait_for(lambda _: bool(self.final(job)), timeout)
        return self.final(job)[0], self.bus.of(job.job_id)

    def final(self, job: IngestJob) -> list[StageEvent]:
        return [e for e in self.bus.of(job.job_id) if e.type in FINAL]


@pytest.fixture
async def ingest(
    amqp_url: str, namespace: str, blob_root: Path, bus: Broker
) -> AsyncIterator[Callable[..., Awaitable[Ingest]]]:
    """Factory: ``await ingest(**setting_overrides)`` starts a worker and returns the runner."""
    runners: list[Ingest] = []
    base = Settings(
        amqp_url=amqp_url,
        namespace=namespace,
        blob_root=blob_root,
        allowed_hosts=["127.0.0.1"],
        connect_timeout=2,
        read_timeout=1,
        fetch_attempts=3,
        fetch_backoff=0.05,
        progress_interval=0.2,
        heartbeat_interval=1,
        shutdown_grace=5,
    )

    async def make(**overrides: Any) -> Ingest:
        runner = Ingest(bus, base)
        await runner.start(**overrides)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        if runner.worker is not None:
            await runner.worker.stop()
