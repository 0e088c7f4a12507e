"""The transcribe stage: audio key in, ``transcript.json`` out, live segments on the way.

Flow: pick the engine; cut long audio into chunks at silences (engines that need the whole
file get it whole); transcribe chunk after chunk, emitting every segment as it comes with
times on the meeting's clock and progress as audio time advances; merge; add speakers with
local diarization when the engine gave none; store; report ``transcript.completed``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from shared.errors import CancelledByUser, MinutaError, PermanentError
from shared.messages import SegmentTranscribed, Stage, TranscribeJob, TranscriptCompleted
from shared.storage import BlobNotFound, meeting_key
from shared.transcript import Segment, Transcript
from shared.worker import JobContext

from shared import metrics
from transcriber import audio as audio_io
from transcriber.chunking import ChunkResult, merge, plan_chunks, shift
from transcriber.engines import Audio, Engine, Request, engine_for
from transcriber.settings import Settings

log = structlog.get_logger("transcriber.handlers")
#: Share of the progress bar transcription takes when diarization follows it.
TRANSCRIBE_SHARE_WITH_DIARIZATION = 85.0
FRAME_S = 0.05


def engine_of(
    job: TranscribeJob, settings: Settings | None = None
) -> tuple[str | None, str | None]:
    """Engine and model names for the ``stage.started`` event."""
    s = settings or Settings()
    try:
        engine = engine_for(job.engine, s)
    except PermanentError:
        return job.engine, job.model
    return engine.name, engine.model_name(job.model)


class _Progress:
    """Turns audio time into live events and percent on the meeting's clock."""

    def __init__(self, ctx: JobContext, duration: float, share: float) -> None:
        self.ctx, self.duration, self.share = ctx, max(duration, 1e-6), share
        self.offset = 0.0

    async def on_segment(self, seg: Segment) -> None:
        if self.ctx.cancel_flag.is_set():
            return  # the stage is being cancelled: publish nothing more
        absolute = shift(seg, self.offset)
        await self.ctx.emit(SegmentTranscribed, segment=absolute)
        done = min(absolute.end, self.duration)
        await self.ctx.progress(
            self.share * done / self.duration, "transcribing", seconds_transcribed=done
        )


async def _transcribe(
    engine: Engine,
    path: Path,
    duration: float,
    request: Request,
    settings: Settings,
    prog: _Progress,
) -> Transcript:
    """Whole file, or chunk by chunk with bounded memory when it is long."""
    if engine.whole_file or duration <= settings.chunk_max_s:
        whole = Audio(path=path, duration=duration)
        if not engine.whole_file:
            whole.samples = await asyncio.to_thread(audio_io.decode, path)
            if whole.samples.size == 0:
                raise PermanentError("the audio is empty: no samples could be decoded")
        return await engine.transcribe(whole, request, prog.on_segment)
    energy, measured = await asyncio.to_thread(audio_io.energy_profile, path, FRAME_S)
    spans = plan_chunks(energy, FRAME_S, measured, settings.chunk_max_s, settings.chunk_search_s)
    log.info("audio_chunked", chunks=len(spans), duration=round(measured, 3))
    chunks = audio_io.iter_chunks(path, spans)
    results: list[ChunkResult] = []
    for start, end in spans:
        samples = await asyncio.to_thread(next, chunks)
        if request.cancel_flag.is_set():
            raise CancelledByUser("cancelled by user")
        prog.offset = start
        part = await engine.transcribe(
            Audio(samples=samples, duration=end - start), request, prog.on_segment
        )
        results.append(ChunkResult(start, end, part))
    return merge(results, measured)


def _diarizer() -> Any | None:
    """The optional ``transcriber.diarize`` module, when it is installed."""
    if importlib.util.find_spec("transcriber.diarize") is None:
        return None
    try:
        module = importlib.import_module("transcriber.diarize")
    except ImportError as e:
        log.warning("diarization_unavailable", error=str(e))
        return None
    return module if hasattr(module, "assign_speakers") else None


async def _diarize(
    module: Any, path: Path, t: Transcript, job: TranscribeJob, ctx: JobContext
) -> Transcript:
    """Call ``assign_speakers`` (sync in a thread, or async) with a thread-safe progress.

    Missing speaker models (``DiarizationUnavailable``) leave the transcript without
    speakers rather than failing the meeting; any other error propagates.
    """
    loop = asyncio.get_running_loop()
    base = TRANSCRIBE_SHARE_WITH_DIARIZATION

    def progress(fraction: float) -> None:
        if ctx.cancel_flag.is_set():
            return
        pct = base + (100 - base) * max(0.0, min(1.0, fraction))
        asyncio.run_coroutine_threadsafe(ctx.progress(pct, "diarizing"), loop)

    fn = module.assign_speakers
    unavailable = getattr(module, "DiarizationUnavailable", ())
    args = (path, t, job.min_speakers, job.max_speakers, ctx.cancel_flag, progress)
    try:
        if inspect.iscoroutinefunction(fn):
            result: Transcript = await fn(*args)
        else:
            result = await ctx.run_blocking(fn, *args)
    except unavailable as e:
        log.warning("diarization_skipped", reason=str(e))
        return t
    return result


async def handle(job: TranscribeJob, ctx: JobContext, settings: Settings) -> TranscriptCompleted:
    """Transcribe the job's audio, store ``transcript.json``, return the completion event."""
    engine = engine_for(job.engine, settings)
    model = engine.model_name(job.model)
    started = time.monotonic()
    try:
        async with ctx.store.local_path(job.audio_key) as path:
            transcript = await _run(engine, path, job, ctx, settings)
    except BlobNotFound as e:
        raise PermanentError(f"audio {job.audio_key!r} is not in the blob store") from e
    except MinutaError as e:
        if not isinstance(e, CancelledByUser):
            metrics.ENGINE_ERRORS.labels(
                Stage.TRANSCRIBE.value, engine.name, type(e).__name__
            ).inc()
        raise
    elapsed = time.monotonic() - started
    rtf = elapsed / transcript.duration if transcript.duration > 0 else None
    transcript = transcript.model_copy(
        update={
            "engine": engine.name,
            "model": model,
            "timings": {**transcript.timings, "stage_s": round(elapsed, 3)},
        }
    )
    key = meeting_key(job.job_id, "transcript.json")
    await ctx.store.put_bytes(key, transcript.model_dump_json().encode())
    if rtf is not None:
        metrics.REALTIME_FACTOR.labels(Stage.TRANSCRIBE.value, engine.name, model).observe(rtf)
    log.info("transcript_stored", key=key, segments=len(transcript.segments), rtf=rtf)
    return ctx.make(
        TranscriptCompleted,
        transcript_key=key,
        language=transcript.language,
        duration_s=transcript.duration,
        engine=engine.name,
        model=model,
        speakers=transcript.speaker_labels(),
        realtime_factor=rtf,
    )


async def _run(
    engine: Engine, path: Path, job: TranscribeJob, ctx: JobContext, settings: Settings
) -> Transcript:
    duration: float = job.duration_s or 0.0
    if duration <= 0:
        duration = await asyncio.to_thread(audio_io.probe_duration, path)
    if duration <= 0:
        raise PermanentError("the audio is empty: no samples could be decoded", code="empty_audio")
    diarize = _diarizer() if settings.diarize != "off" and engine.name != "noop" else None
    share = TRANSCRIBE_SHARE_WITH_DIARIZATION if diarize else 100.0
    prog = _Progress(ctx, duration, share)
    request = Request(job.language, job.model, job.min_speakers, job.max_speakers, ctx.cancel_flag)
    await ctx.progress(0.0, "transcribing", seconds_transcribed=0.0)
    transcript = await _transcribe(engine, path, duration, request, settings, prog)
    transcript = transcript.model_copy(update={"duration": max(transcript.duration, duration)})
    if diarize is not None and transcript.segments and not transcript.speaker_labels():
        transcript = await _diarize(diarize, path, transcript, job, ctx)
    ctx.check_cancelled()
    return transcript


def bind(
    settings: Settings,
) -> Callable[[TranscribeJob, JobContext], Awaitable[TranscriptCompleted]]:
    """The handler with its settings, in the shape ``shared.worker.Worker`` expects."""

    async def bound(job: TranscribeJob, ctx: JobContext) -> TranscriptCompleted:
        return await handle(job, ctx, settings)

    return bound
