"""The ``pyav`` engine: fetch if needed, validate, normalize to 16 kHz mono, store.

All decoding runs in a worker thread (``ctx.run_blocking``) that polls the cancel flag;
progress events report bytes downloaded, seconds decoded and a percent.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

import structlog
from shared.errors import PermanentError
from shared.messages import IngestCompleted, IngestJob
from shared.storage import BlobNotFound, meeting_key, validate_key
from shared.worker import JobContext

from ingest.fetch import DownloadProgress, fetch_to_store
from ingest.normalize import DecodeProgress, normalize
from ingest.probe import check_head
from ingest.progress import Snapshot, reporting, share
from ingest.settings import Settings
from shared import metrics

log = structlog.get_logger("ingest.engine")


async def obtain_source(job: IngestJob, ctx: JobContext, settings: Settings) -> str:
    """The blob key of the source: the upload's, or where the URL was downloaded to."""
    if job.source_key:
        try:
            validate_key(job.source_key)
        except ValueError as e:
            raise PermanentError(f"the source key {job.source_key!r} is not valid") from e
        if not await ctx.store.exists(job.source_key):
            raise PermanentError(
                "the uploaded file is missing from storage; upload it again",
                code="source_missing",
            )
        return job.source_key
    if not job.source_url:
        raise PermanentError("the job names no source (neither an upload nor a URL)")
    key = meeting_key(job.job_id, "original")
    state = DownloadProgress()

    def snapshot() -> Snapshot:
        pct = share(state.bytes_downloaded, state.total_bytes, 0, 30)
        detail: dict[str, float] = {"bytes_downloaded": state.bytes_downloaded}
        if state.total_bytes:
            detail["total_bytes"] = state.total_bytes
        return pct, "downloading", detail

    async with reporting(ctx, snapshot, settings.progress_interval):
        info = await fetch_to_store(
            job.source_url, job.source_headers, ctx.store, key, settings, state
        )
    log.info("source_downloaded", key=key, bytes=info.size)
    return key


async def ingest(job: IngestJob, ctx: JobContext, settings: Settings) -> IngestCompleted:
    """Run the whole stage for one job and build its completion event."""
    source_key = await obtain_source(job, ctx, settings)
    lo = 30.0 if job.source_url and not job.source_key else 0.0
    max_duration = job.max_duration_s or settings.max_duration_s
    fmt = settings.normalized_format
    state = DecodeProgress()

    def snapshot() -> Snapshot:
        pct = share(state.seconds_decoded, state.total_seconds, lo, 100)
        return pct, "normalizing", {"seconds_decoded": round(state.seconds_decoded, 1)}

    try:
        async with ctx.store.local_path(source_key) as path:
            size = await ctx.run_blocking(check_head, path)
            with tempfile.TemporaryDirectory(dir=settings.tmp_dir, prefix="ingest-") as tmp:
                out = Path(tmp) / f"audio.{fmt}"
                work = functools.partial(
                    normalize,
                    path,
                    out,
                    size=size,
                    max_duration_s=max_duration,
                    fmt=fmt,
                    silence_threshold_db=settings.silence_threshold_db,
                    progress=state,
                    cancel=ctx.cancel_flag,
                )
                started = time.monotonic()
                async with reporting(ctx, snapshot, settings.progress_interval):
                    result = await ctx.run_blocking(work)
                if result.silence_ratio >= settings.max_silence_ratio:
                    raise PermanentError(
                        f"the recording is silent: nothing in its {result.duration_s:.1f} s is "
                        f"louder than {settings.silence_threshold_db:g} dBFS. Check that the "
                        "right microphone or audio track was recorded, then submit it again",
                        code="silent",
                    )
                if result.duration_s > 0:
                    metrics.REALTIME_FACTOR.labels("ingest", "pyav", fmt).observe(
                        (time.monotonic() - started) / result.duration_s
                    )
                blob = await ctx.store.put_file(meeting_key(job.job_id, f"audio.{fmt}"), out)
    except BlobNotFound as e:
        raise PermanentError(
            "the source file is missing from storage", code="source_missing"
        ) from e
    log.info(
        "normalized",
        duration_s=round(result.duration_s, 3),
        format=result.info.format,
        codec=result.info.codec,
        silence_ratio=round(result.silence_ratio, 3),
    )
    return ctx.make(
        IngestCompleted,
        audio_key=blob.key,
        audio_sha256=blob.sha256,
        duration_s=round(result.duration_s, 3),
        original_format=result.info.format,
        original_codec=result.info.codec,
        original_size=size,
        silence_ratio=round(result.silence_ratio, 4),
    )
