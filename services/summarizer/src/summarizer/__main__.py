"""``python -m summarizer``: run the summarize-stage worker until SIGTERM."""

from __future__ import annotations

import asyncio
from functools import partial

from shared.logging import configure_logging
from shared.messages import Stage
from shared.worker import Worker, run_worker

from summarizer.handlers import engine_of, make_handler
from summarizer.settings import Settings


def main() -> None:
    """Build settings, configure logging and run the worker until SIGINT/SIGTERM."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    worker = Worker(
        Stage.SUMMARIZE,
        make_handler(settings),
        settings,
        engine_name=partial(engine_of, settings=settings),
    )
    asyncio.run(run_worker(worker))


if __name__ == "__main__":
    main()
