"""The diarization hook: called only when the engine gave no speakers; optional models."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from shared.errors import PermanentError
from shared.messages import StageProgress, TranscribeJob
from shared.storage import LocalBlobStore
from shared.transcript import Segment, Transcript
from shared.worker import JobContext
from transcriber.handlers import _diarize

T = Transcript(segments=[Segment(start=0, end=1, text="hi"), Segment(start=1, end=2, text="yo")])


class Unavailable(PermanentError):
    pass


class _Runtime:
    def __init__(self, root: Path) -> None:
        self.store = LocalBlobStore(root)
        self.worker_id = "w"
        self.events: list[Any] = []

    async def publish_event(self, event: Any) -> None:
        self.events.append(event)


def _ctx(tmp_path: Path) -> tuple[JobContext, _Runtime, TranscribeJob]:
    rt = _Runtime(tmp_path)
    job = TranscribeJob(
        job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), audio_key="a", min_speakers=2, max_speakers=3
    )
    return JobContext(job, cast(Any, rt)), rt, job


async def test_speakers_come_back_and_progress_is_reported(tmp_path: Path) -> None:
    ctx, rt, job = _ctx(tmp_path)
    seen: dict[str, Any] = {}

    def assign_speakers(
        path: Path,
        t: Transcript,
        lo: int | None,
        hi: int | None,
        flag: threading.Event,
        progress: Callable[[float], None],
    ) -> Transcript:
        seen.update(path=path, lo=lo, hi=hi, flag=flag)
        progress(0.5)
        segs = [s.model_copy(update={"speaker": f"S{i + 1}"}) for i, s in enumerate(t.segments)]
        return t.model_copy(update={"segments": segs})

    module = SimpleNamespace(assign_speakers=assign_speakers, DiarizationUnavailable=Unavailable)
    out = await _diarize(module, tmp_path / "a.flac", T, job, ctx)
    assert out.speaker_labels() == ["S1", "S2"]
    assert (seen["lo"], seen["hi"]) == (2, 3)
    assert seen["flag"] is ctx.cancel_flag
    for _ in range(50):  # the progress callback hops threads; give the loop a moment
        if rt.events:
            break
        await asyncio.sleep(0.01)
    progress = [e for e in rt.events if isinstance(e, StageProgress)]
    assert progress
    assert 85 < (progress[0].percent or 0) < 100


async def test_missing_speaker_models_keep_the_transcript_without_speakers(
    tmp_path: Path,
) -> None:
    ctx, _, job = _ctx(tmp_path)

    def assign_speakers(*args: Any) -> Transcript:
        raise Unavailable("speaker models are not provisioned")

    module = SimpleNamespace(assign_speakers=assign_speakers, DiarizationUnavailable=Unavailable)
    out = await _diarize(module, tmp_path / "a.flac", T, job, ctx)
    assert out == T


async def test_other_diarization_errors_fail_the_job(tmp_path: Path) -> None:
    ctx, _, job = _ctx(tmp_path)

    def assign_speakers(*args: Any) -> Transcript:
        raise PermanentError("min_speakers 5 is more than max_speakers 2")

    module = SimpleNamespace(assign_speakers=assign_speakers, DiarizationUnavailable=Unavailable)
    with pytest.raises(PermanentError, match="min_speakers"):
        await _diarize(module, tmp_path / "a.flac", T, job, ctx)
