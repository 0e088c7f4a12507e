"""The ingest stage handler: picks the engine from settings and runs it for one job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.messages import IngestCompleted, IngestJob
from shared.worker import JobContext

from ingest.engines import noop, pyav
from ingest.settings import Settings

IngestHandler = Callable[[IngestJob, JobContext], Awaitable[IngestCompleted]]


async def handle(job: IngestJob, ctx: JobContext, settings: Settings) -> IngestCompleted:
    """Ingest one job with the configured engine (``pyav`` unless set to ``noop``)."""
    if settings.engine == "noop":
        return await noop.ingest(job, ctx, settings)
    return await pyav.ingest(job, ctx, settings)


def make_handler(settings: Settings) -> IngestHandler:
    """``handle`` bound to ``settings``, as ``shared.worker.Worker`` expects."""

    async def bound(job: IngestJob, ctx: JobContext) -> IngestCompleted:
        return await handle(job, ctx, settings)

    return bound


def engine_of(settings: Settings) -> Callable[[Any], tuple[str | None, str | None]]:
    """What ``stage.started`` reports as engine and model."""
    return lambda job: (settings.engine, None)
