"""The ``noop`` engine: no copy, no decode; reports the source's declared duration.

Benchmarks push thousands of tiny jobs through it, so it only reads the container header
of an uploaded source, and reports duration 0 for anything it cannot read (or for URL
sources, which it does not download).
"""

from __future__ import annotations

from pathlib import Path

from shared.messages import IngestCompleted, IngestJob
from shared.storage import BlobNotFound
from shared.worker import JobContext

from ingest.probe import MediaRejected, audio_stream_duration, open_media
from ingest.settings import Settings


def declared_duration(path: Path) -> float:
    """The audio duration a file's header declares, or 0 if it is not readable audio."""
    try:
        with open_media(path) as container:
            if not container.streams.audio:
                return 0.0
            duration = audio_stream_duration(container, container.streams.audio[0])
            return max(0.0, duration or 0.0)
    except MediaRejected:
        return 0.0


async def ingest(job: IngestJob, ctx: JobContext, settings: Settings) -> IngestCompleted:
    """Report the source as the audio, with its declared duration; never fails on content."""
    duration, size = 0.0, 0
    if job.source_key:
        try:
            async with ctx.store.local_path(job.source_key) as path:
                size = path.stat().st_size
                if size:
                    duration = await ctx.run_blocking(declared_duration, path)
        except (BlobNotFound, ValueError):
            pass
    return ctx.make(
        IngestCompleted,
        audio_key=job.source_key or "",
        audio_sha256="",
        duration_s=round(duration, 3),
        original_size=size,
    )
