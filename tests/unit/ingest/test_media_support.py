"""The test-media helpers make real, decodable files of the length they claim."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.support.media import (
    FORMATS,
    VIDEO_FORMATS,
    dialogue,
    duration_of,
    encode,
    silence,
    speak,
    video_only,
)


def _streams(path: Path) -> tuple[list[str], float]:
    with av.open(str(path)) as c:
        kinds = [s.type for s in c.streams]
        audio = c.streams.audio[0] if c.streams.audio else None
        seconds = 0.0
        if audio is not None:
            seconds = sum(f.samples for f in c.decode(audio)) / audio.rate
        return kinds, seconds


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak("The budget review starts now.", tmp_path_factory.mktemp("m") / "s.wav")


def test_speak_makes_seconds_of_speech(speech: Path) -> None:
    assert 1.0 < duration_of(speech) < 4.0


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_encode_keeps_duration_and_adds_video_where_asked(
    speech: Path, tmp_path: Path, fmt: str
) -> None:
    out = encode(speech, tmp_path / f"x.{fmt}", fmt)
    kinds, seconds = _streams(out)
    assert "audio" in kinds
    assert ("video" in kinds) == (fmt in VIDEO_FORMATS)
    # Codecs pad with priming samples; a tenth of a second is what the ingest tests allow.
    assert abs(seconds - duration_of(speech)) < 0.1


def test_dialogue_spans_are_ordered_and_use_both_voices(tmp_path: Path) -> None:
    spans = dialogue(
        [("en+m3", "Good morning."), ("en-us+f3", "Hi, shall we start?")],
        tmp_path / "d.wav",
        gap=0.5,
    )
    assert [v for _, _, v in spans] == ["en+m3", "en-us+f3"]
    assert spans[0][1] + 0.5 == pytest.approx(spans[1][0])
    assert spans[1][1] == pytest.approx(duration_of(tmp_path / "d.wav"))


def test_silence_and_video_only(tmp_path: Path) -> None:
    assert duration_of(silence(tmp_path / "q.wav", 1.5)) == pytest.approx(1.5)
    kinds, _ = _streams(video_only(tmp_path / "v.mp4", 1.0))
    assert kinds == ["video"]
