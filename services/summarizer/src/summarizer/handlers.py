"""The summarize stage: transcript from the blob store in, minutes JSON out."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from pydantic import ValidationError
from shared.errors import PermanentError
from shared.messages import MinutesCompleted, StageEvent, SummarizeJob
from shared.storage import BlobNotFound, BlobStore, meeting_key
from shared.transcript import Transcript
from shared.worker import JobContext

from summarizer.engines import SummaryRequest, get_engine
from summarizer.settings import Settings
from summarizer.templates import get_template

log = structlog.get_logger("summarizer.handlers")


def engine_of(job: SummarizeJob, settings: Settings) -> tuple[str | None, str | None]:
    """(engine, model) a job will run with, for its ``stage.started`` event."""
    try:
        engine = get_engine(job.engine, settings)
    except PermanentError:
        return job.engine, job.model
    request = SummaryRequest(model=job.model)
    return engine.name, engine.model_for(request) or None


async def load_transcript(store: BlobStore, key: str) -> Transcript:
    """The transcript stored under ``key``; PermanentError when missing or malformed."""
    try:
        raw = await store.get_bytes(key)
    except BlobNotFound as e:
        raise PermanentError(
            f"transcript {key!r} is not in the blob store", code="transcript_missing"
        ) from e
    except ValueError as e:
        raise PermanentError(f"invalid transcript key {key!r}", code="transcript_missing") from e
    try:
        return Transcript.model_validate_json(raw)
    except ValidationError as e:
        first = str(e).splitlines()[0]
        raise PermanentError(
            f"transcript {key!r} is not a valid transcript: {first}", code="transcript_invalid"
        ) from e


async def handle(job: SummarizeJob, ctx: JobContext, settings: Settings) -> MinutesCompleted:
    """Summarize the job's transcript with the chosen engine and store the minutes."""
    engine = get_engine(job.engine, settings)
    template = get_template(job.template)
    transcript = await load_transcript(ctx.store, job.transcript_key)
    names = {**transcript.speakers, **job.speaker_names}
    request = SummaryRequest(
        template=template.name,
        instructions=job.instructions,
        model=job.model,
        speaker_names=names,
        cancel_flag=ctx.cancel_flag,
    )
    await ctx.progress(0.0, f"summarizing with {engine.name}", segments=len(transcript.segments))
    started = time.monotonic()
    result = await engine.summarize(transcript, request, lambda pct, msg: ctx.progress(pct, msg))
    minutes = result.minutes.model_copy(update={"speakers": names})
    key = meeting_key(job.job_id, "minutes.json")
    await ctx.store.put_bytes(key, minutes.model_dump_json(indent=2).encode())
    log.info(
        "minutes_stored",
        key=key,
        engine=engine.name,
        model=result.model,
        seconds=round(time.monotonic() - started, 3),
        decisions=len(minutes.decisions),
        action_items=len(minutes.action_items),
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
    )
    return ctx.make(
        MinutesCompleted,
        minutes_key=key,
        engine=engine.name,
        model=result.model,
        tokens_in=result.tokens_in,
        tokens_out=result.tokens_out,
    )


def make_handler(settings: Settings) -> Callable[[Any, JobContext], Awaitable[StageEvent]]:
    """The worker's handler, bound to ``settings``."""

    async def handler(job: Any, ctx: JobContext) -> StageEvent:
        return await handle(job, ctx, settings)

    return handler
