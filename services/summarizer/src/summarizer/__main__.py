"""``python -m summarizer``: run the summarize-stage worker until SIGTERM."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from shared.logging import configure_logging
from shared.messages import Stage, StageEvent
from shared.worker import JobContext, Worker, run_worker

from summarizer.handlers import engine_of, handle
from summarizer.settings import Settings


def main() -> None:
    """Build settings, configure logging and run the worker."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)

    async def handler(job: Any, ctx: JobContext) -> StageEvent:
        return await handle(job, ctx, settings)

    worker = Worker(
        Stage.SUMMARIZE, handler, settings, engine_name=partial(engine_of, settings=settings)
    )
    asyncio.run(run_worker(worker))


if __name__ == "__main__":
    main()
