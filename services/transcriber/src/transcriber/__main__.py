"""``python -m transcriber``: run the transcribe worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.logging import configure_logging
from shared.messages import Stage
from shared.worker import Worker, run_worker

from transcriber.handlers import bind, engine_of
from transcriber.settings import Settings


def build_worker(settings: Settings) -> Worker:
    """The transcribe-stage worker for ``settings`` (tests build it the same way)."""

    def names(job: Any) -> tuple[str | None, str | None]:
        return engine_of(job, settings)

    return Worker(Stage.TRANSCRIBE, bind(settings), settings, engine_name=names)


def main() -> None:
    """Entry point."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_worker(build_worker(settings)))


if __name__ == "__main__":
    main()
