"""Real speech through the whisper engine and the handler (no broker): words, times, chunks."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from shared.errors import PermanentError
from shared.messages import SegmentTranscribed, StageProgress, TranscribeJob
from shared.storage import meeting_key
from shared.transcript import Transcript, to_srt
from shared.worker import JobContext
from transcriber.handlers import handle
from transcriber.settings import Settings

from tests.integration.transcriber.conftest import TURNS, FakeRuntime, make_meeting, wer


async def _run(
    runtime: FakeRuntime, settings: Settings, flac: Path, **job_fields: Any
) -> tuple[TranscribeJob, Any]:
    job = TranscribeJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), audio_key="x", **job_fields)
    key = meeting_key(job.job_id, "audio.flac")
    await runtime.store.put_file(key, flac)
    job = job.model_copy(update={"audio_key": key})
    ctx = JobContext(job, cast(Any, runtime))
    return job, await handle(job, ctx, settings)


async def _stored(runtime: FakeRuntime, key: str) -> Transcript:
    return Transcript.model_validate(json.loads(await runtime.store.get_bytes(key)))


@pytest.mark.parametrize("model", ["tiny.en", "base"])
async def test_two_voice_meeting_is_transcribed_with_low_wer(
    model: str, runtime: FakeRuntime, settings: Settings, base_model: Path, tmp_path: Path
) -> None:
    flac, spans = make_meeting(TURNS, tmp_path / "meeting.flac")
    settings = settings.model_copy(update={"whisper_model": model, "beam_size": 5})
    _job, done = await _run(runtime, settings, flac, language="en")
    t = await _stored(runtime, done.transcript_key)
    reference = " ".join(text for _, text in TURNS)
    assert wer(reference, t.text) <= 0.15, t.text
    assert done.language == "en"
    assert done.model == model
    assert done.realtime_factor is not None
    words = [w for s in t.segments for w in s.words]
    assert len(words) >= 30
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))
    assert all(0 <= w.start <= w.end <= spans[-1][1] + 0.5 for w in words)
    # Live events came before completion, with times on the meeting's clock.
    live = [e for e in runtime.events if isinstance(e, SegmentTranscribed)]
    assert [e.segment.text for e in live] == [s.text for s in t.segments]
    percents = [e.percent for e in runtime.events if isinstance(e, StageProgress)]
    assert percents == sorted(percents)
    assert percents[-1] is not None
    assert percents[-1] > 90
    assert "Friday" in to_srt(t)


async def test_long_input_is_chunked_at_silences_and_merged_without_losing_words(
    runtime: FakeRuntime, settings: Settings, tmp_path: Path
) -> None:
    sentences = [
        "The first topic is the new office in Berlin.",
        "We signed the lease for three years last week.",
        "Moving will start in the middle of April.",
        "The second topic is hiring for the data team.",
        "Anna will interview four candidates next month.",
        "The third topic is the customer conference.",
        "Tickets are already sold out for the main hall.",
        "We need twenty volunteers for the registration desk.",
        "The last topic is the travel budget.",
        "Flights must be booked three weeks in advance.",
        "Hotels should be close to the venue.",
        "That is everything for today, thank you all.",
    ]
    turns = [("en+m3" if i % 2 else "en-us+f3", s) for i, s in enumerate(sentences)]
    flac, spans = make_meeting(turns, tmp_path / "long.flac")
    duration = spans[-1][1]
    _, whole_done = await _run(runtime, settings, flac, language="en")
    whole = await _stored(runtime, whole_done.transcript_key)
    chunked = settings.model_copy(update={"chunk_max_s": 12.0, "chunk_search_s": 5.0})
    _, done = await _run(runtime, chunked, flac, language="en")
    t = await _stored(runtime, done.transcript_key)
    assert sum(1 for e in runtime.events if type(e).__name__ == "StageProgress") > 5
    # Cutting must not lose or repeat words: the chunked text matches the one-piece text
    # (tiny.en on synthetic voices misses some words either way; that is not the point).
    whole_words = [w for s in whole.segments for w in s.words]
    chunk_words = [w for s in t.segments for w in s.words]
    assert abs(len(chunk_words) - len(whole_words)) <= 3, (whole.text, t.text)
    assert wer(whole.text, t.text) <= 0.2, (whole.text, t.text)
    assert wer(" ".join(sentences), t.text) <= 0.3, t.text
    words = [w for s in t.segments for w in s.words]
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert words[-1].end <= duration + 0.05
    assert words[-1].start > duration - 5  # the last chunk's words sit at the end, not at 0
    assert t.duration == pytest.approx(duration, abs=0.1)


async def test_unsupported_language_fails_with_a_clear_reason(
    runtime: FakeRuntime, settings: Settings, tmp_path: Path
) -> None:
    flac, _ = make_meeting(TURNS[:1], tmp_path / "a.flac")
    with pytest.raises(PermanentError, match="language 'de' is not supported"):
        await _run(runtime, settings, flac, language="de")


async def test_missing_model_names_the_provisioning_command(
    runtime: FakeRuntime, settings: Settings, tmp_path: Path
) -> None:
    flac, _ = make_meeting(TURNS[:1], tmp_path / "a.flac")
    missing = settings.model_copy(update={"models_dir": tmp_path / "nothing-here"})
    with pytest.raises(PermanentError, match=r"python -m transcriber.provision --model tiny.en"):
        await _run(runtime, missing, flac)


async def test_noop_engine_returns_a_valid_empty_transcript(
    runtime: FakeRuntime, settings: Settings, tmp_path: Path
) -> None:
    flac, spans = make_meeting(TURNS[:1], tmp_path / "a.flac")
    _, done = await _run(runtime, settings, flac, engine="noop", duration_s=spans[-1][1])
    t = await _stored(runtime, done.transcript_key)
    assert t.segments == []
    assert t.duration == pytest.approx(spans[-1][1])
    assert done.engine == "noop"


async def test_audio_that_is_not_audio_fails_permanently(
    runtime: FakeRuntime, settings: Settings, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.flac"
    bogus.write_bytes(b"this is not a flac file at all" * 100)
    with pytest.raises(PermanentError, match="audio"):
        await _run(runtime, settings, bogus)
