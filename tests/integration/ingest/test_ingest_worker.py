"""The ingest worker end to end: real RabbitMQ, real media, real blob store.

Each test starts an in-process ``shared.worker.Worker`` with the ingest handler, publishes an
``IngestJob`` to the jobs exchange and reads the events the gateway would read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

import av
import pytest
from shared.messages import IngestCompleted, StageFailed, StageProgress
from shared.storage import meeting_key

from tests.integration.ingest.badmedia import BAD_INPUTS
from tests.integration.ingest.conftest import Ingest
from tests.support.media import FORMATS, duration_of, encode, silence, speak

pytestmark = pytest.mark.integration
MakeIngest = Callable[..., Awaitable[Ingest]]

#: fmt -> the ``original_format`` the completion event reports
LABELS = {
    "wav": "wav",
    "flac": "flac",
    "mp3": "mp3",
    "m4a": "m4a",
    "ogg": "ogg",
    "webm": "matroska",
    "webm-video": "matroska",
    "mp4": "mp4",
    "mkv": "matroska",
    "mov": "mov",
}


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(
        "Welcome to the planning meeting. First item: the budget for next quarter.",
        tmp_path_factory.mktemp("speech") / "speech.wav",
    )


def _decoded(path: Path) -> tuple[int, int, str, float]:
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        samples = sum(f.samples for f in c.decode(s))
        return s.rate, s.channels, c.format.name, samples / s.rate


@pytest.mark.parametrize("fmt", sorted(FORMATS))
async def test_each_format_becomes_16k_mono_flac(
    ingest: MakeIngest, speech: Path, tmp_path: Path, fmt: str
) -> None:
    runner = await ingest()
    source = encode(speech, tmp_path / f"meeting.{fmt.replace('-', '.')}", fmt)
    key = await runner.upload(source)

    final, events = await runner.run(source_key=key)

    assert isinstance(final, IngestCompleted), final
    expected = duration_of(speech)
    assert final.duration_s == pytest.approx(expected, abs=0.1)
    assert final.audio_key == meeting_key(final.job_id, "audio.flac")
    assert final.original_format == LABELS[fmt]
    assert final.original_size == source.stat().st_size
    assert 0.0 <= final.silence_ratio < 0.5  # it is speech
    stored = runner.store.path_of(final.audio_key)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == final.audio_sha256
    rate, channels, container, seconds = _decoded(stored)
    assert (rate, channels, container) == (16000, 1, "flac")
    assert seconds == pytest.approx(final.duration_s, abs=0.01)
    decoded = [e.detail["seconds_decoded"] for e in events if isinstance(e, StageProgress)]
    assert decoded
    assert decoded[-1] == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
async def test_bad_input_fails_permanently_with_a_reason(
    ingest: MakeIngest, speech: Path, tmp_path: Path, case: str
) -> None:
    runner = await ingest()
    maker, words = BAD_INPUTS[case]
    key = await runner.upload(maker(speech, tmp_path))

    final, _ = await runner.run(source_key=key)

    assert isinstance(final, StageFailed), final
    assert final.retryable is False
    for word in words:
        assert word in final.reason.lower(), final.reason
    assert not await runner.store.exists(meeting_key(final.job_id, "audio.flac"))


async def test_longer_than_the_jobs_maximum_is_refused(
    ingest: MakeIngest, speech: Path, tmp_path: Path
) -> None:
    runner = await ingest()
    key = await runner.upload(encode(speech, tmp_path / "long.mp3", "mp3"))

    final, _ = await runner.run(source_key=key, max_duration_s=2.0)

    assert isinstance(final, StageFailed)
    assert not final.retryable
    assert "longer than the maximum of 2.0 s" in final.reason


async def test_silence_only_fails_saying_the_recording_is_silent(
    ingest: MakeIngest, tmp_path: Path
) -> None:
    runner = await ingest()
    key = await runner.upload(encode(silence(tmp_path / "q.wav", 3.0), tmp_path / "q.ogg", "ogg"))

    final, _ = await runner.run(source_key=key)

    assert isinstance(final, StageFailed), final
    assert not final.retryable
    assert final.code == "silent"
    assert "the recording is silent" in final.reason
    assert "3.0 s" in final.reason


async def test_missing_upload_is_a_permanent_failure(ingest: MakeIngest) -> None:
    runner = await ingest()
    final, _ = await runner.run(source_key="uploads/nothing-here/a.wav")
    assert isinstance(final, StageFailed)
    assert not final.retryable
    assert "missing" in final.reason


async def test_noop_engine_reports_declared_duration_without_copying(
    ingest: MakeIngest, speech: Path, tmp_path: Path
) -> None:
    runner = await ingest(engine="noop")
    audio_key = await runner.upload(encode(speech, tmp_path / "a.m4a", "m4a"))
    png_key = await runner.upload(BAD_INPUTS["png-image"][0](speech, tmp_path))

    audio, events = await runner.run(source_key=audio_key)
    image, _ = await runner.run(source_key=png_key)

    assert isinstance(audio, IngestCompleted)
    assert audio.audio_key == audio_key
    assert audio.duration_s == pytest.approx(duration_of(speech), abs=0.1)
    assert [e.engine for e in events if e.type == "stage.started"] == ["noop"]
    assert isinstance(image, IngestCompleted)
    assert image.duration_s == 0
    assert not await runner.store.exists(meeting_key(audio.job_id, "audio.flac"))
