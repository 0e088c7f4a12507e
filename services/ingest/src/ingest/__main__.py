"""``python -m ingest``: run the ingest worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio

from shared.logging import configure_logging
from shared.messages import Stage
from shared.worker import Worker, run_worker

from ingest.handlers import engine_of, make_handler
from ingest.settings import Settings


def main() -> None:
    """Build settings once, configure logging, consume ingest jobs."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    worker = Worker(Stage.INGEST, make_handler(settings), settings, engine_name=engine_of(settings))
    asyncio.run(run_worker(worker))


if __name__ == "__main__":
    main()
