"""A worker whose handler is scripted by the job, for testing the shared runtime.

``IngestJob.source_url`` says what to do: ``sleep:SECONDS`` (then complete), ``fail:retry``,
``fail:permanent``, ``fail:crash``, ``block:SECONDS`` (blocking sleep in a thread, polling the
cancel flag). Run as ``python -m tests.support.echo_worker`` with ``ECHO_*`` settings.
"""

from __future__ import annotations

import asyncio
import time

from pydantic_settings import SettingsConfigDict
from shared.errors import PermanentError, RetryableError
from shared.logging import configure_logging
from shared.messages import IngestCompleted, IngestJob, Stage
from shared.settings import CommonSettings
from shared.worker import JobContext, Worker, run_worker


class EchoSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_")


def _blocking_sleep(seconds: float, ctx: JobContext) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ctx.check_cancelled()
        time.sleep(0.05)


async def handle(job: IngestJob, ctx: JobContext) -> IngestCompleted:
    verb, _, arg = (job.source_url or "sleep:0").partition(":")
    if verb == "sleep":
        await asyncio.sleep(float(arg))
        await ctx.progress(100.0, "slept", seconds_decoded=float(arg))
    elif verb == "block":
        await ctx.run_blocking(_blocking_sleep, float(arg), ctx)
    elif verb == "fail" and arg == "retry":
        raise RetryableError("the source server is busy", retry_after=3)
    elif verb == "fail" and arg == "permanent":
        raise PermanentError("this file is not audio")
    elif verb == "fail":
        raise RuntimeError("handler bug")
    return ctx.make(
        IngestCompleted,
        audio_key=f"meetings/{job.job_id}/audio.flac",
        audio_sha256="0" * 64,
        duration_s=1.0,
    )


def make_worker(settings: EchoSettings) -> Worker:
    return Worker(Stage.INGEST, handle, settings, engine_name=lambda job: ("echo", None))


def main() -> None:
    settings = EchoSettings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_worker(make_worker(settings)))


if __name__ == "__main__":
    main()
