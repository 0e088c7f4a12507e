"""Diarization on real audio: espeak-ng voices and real readers with known turns."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from shared.errors import CancelledByUser
from shared.transcript import Segment, Transcript, Word
from transcriber.diarize import assign_speakers, diarize, load_audio

from tests.integration.diarize.corpus import conversation, score
from tests.support.media import dialogue

LINES = [
    "Good morning everyone, let us start with the budget review for this quarter.",
    "Thanks. The numbers look fine, but marketing spent more than planned.",
    "How much more did they spend compared to the forecast we agreed on?",
    "About twelve percent, mostly on the conference in September.",
    "Then we should ask them to present a revised plan next week.",
    "I agree, and I will send the invitation this afternoon.",
    "Next item is hiring. We still have two open positions in engineering.",
    "Recruiting says the pipeline is strong, with interviews scheduled on Monday.",
]
VOICES = ["en+m3", "en-us+f3", "en-us+m7"]  # low male, female, very low male


def _meeting(tmp: Path, voices: int) -> tuple[Path, list[tuple[float, float, str]]]:
    path = tmp / f"meeting-{voices}.wav"
    spans = dialogue([(VOICES[i % voices], line) for i, line in enumerate(LINES)], path)
    return path, spans


def _transcript(spans: list[tuple[float, float, str]]) -> Transcript:
    """What a speech engine without speakers returns: word times, one segment per line,
    except lines 3 and 4, which it ran together into one segment."""
    segments = []
    for (start, end, _), line in zip(spans, LINES, strict=True):
        tokens = line.split()
        step = (end - start) / len(tokens)
        words = [Word(text=f" {t}", start=start + i * step, end=start + (i + 1) * step)
                 for i, t in enumerate(tokens)]  # fmt: skip
        segments.append(Segment(start=start, end=end, text=" " + line, words=words))
    joined = Segment(
        start=segments[2].start,
        end=segments[3].end,
        text=segments[2].text + segments[3].text,
        words=segments[2].words + segments[3].words,
    )
    segments[2:4] = [joined]
    return Transcript(segments=segments, duration=spans[-1][1], engine="openai")


def _word_accuracy(result: Transcript, spans: list[tuple[float, float, str]]) -> float:
    words = [w for seg in result.segments for w in seg.words]
    truth = [next(v for s, e, v in spans if s <= (w.start + w.end) / 2 <= e) for w in words]
    first: dict[str, str] = {}
    for voice, label in zip(truth, [w.speaker for w in words], strict=True):
        assert label is not None
        first.setdefault(voice, label)
    right = sum(first[v] == w.speaker for v, w in zip(truth, words, strict=True))
    return right / len(words)


def test_two_voices_are_told_apart_word_by_word(tmp_path: Path, diarize_models: Path) -> None:
    path, spans = _meeting(tmp_path, 2)
    result = assign_speakers(path, _transcript(spans), None, None, threading.Event())
    assert result.speaker_labels() == ["S1", "S2"]
    assert _word_accuracy(result, spans) >= 0.9
    # The run-together segment was split where the second speaker started.
    texts = [(s.speaker, s.text) for s in result.segments]
    assert (texts[2][0], texts[3][0]) == ("S1", "S2")
    assert texts[2][1] == LINES[2]
    assert texts[3][1] == LINES[3]
    assert all(seg.speaker == seg.words[0].speaker for seg in result.segments)
    assert "diarize" in result.timings


def test_three_voices_are_counted_and_attributed(tmp_path: Path, diarize_models: Path) -> None:
    path, spans = _meeting(tmp_path, 3)
    figures = score(spans, diarize(load_audio(path), diarize_models))
    assert figures["speakers"] == 3
    assert figures["accuracy"] >= 0.9


def test_speaker_bounds_are_respected(tmp_path: Path, diarize_models: Path) -> None:
    three, _ = _meeting(tmp_path, 3)
    at_most_two = diarize(load_audio(three), diarize_models, max_speakers=2)
    assert len({t.speaker for t in at_most_two}) == 2
    two, spans = _meeting(tmp_path, 2)
    exactly_two = diarize(load_audio(two), diarize_models, min_speakers=2, max_speakers=2)
    assert score(spans, exactly_two)["accuracy"] >= 0.9
    at_least_three = diarize(load_audio(two), diarize_models, min_speakers=3)
    assert len({t.speaker for t in at_least_three}) == 3


def test_real_readers_are_told_apart(tmp_path: Path, diarize_models: Path, readers: Path) -> None:
    order = [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("B", 2), ("A", 3), ("B", 3)]
    spans = conversation(readers, order, tmp_path / "two.wav")
    figures = score(spans, diarize(load_audio(tmp_path / "two.wav"), diarize_models))
    assert figures["speakers"] == 2
    assert figures["accuracy"] >= 0.9
    assert figures["coverage"] >= 0.75


def test_three_real_readers_with_a_known_count(
    tmp_path: Path, diarize_models: Path, readers: Path
) -> None:
    order = [("A", 0), ("B", 0), ("C", 2), ("A", 1), ("C", 4), ("B", 1), ("A", 3), ("C", 1)]
    spans = conversation(readers, order, tmp_path / "three.wav")
    turns = diarize(load_audio(tmp_path / "three.wav"), diarize_models, 3, 3)
    assert score(spans, turns)["accuracy"] >= 0.9


def test_cancel_stops_the_run(tmp_path: Path, diarize_models: Path) -> None:
    path, spans = _meeting(tmp_path, 2)
    cancel = threading.Event()
    seen: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.15:  # the first embedding batch is done
            cancel.set()

    with pytest.raises(CancelledByUser):
        assign_speakers(path, _transcript(spans), None, None, cancel, progress)
    assert len([f for f in seen if f > 0.15]) == 1
    assert max(seen) < 1.0
