"""Cutting long audio at silences and merging chunk transcripts (pure functions)."""

from __future__ import annotations

import itertools

from shared.transcript import Segment, Transcript, Word
from transcriber.chunking import ChunkResult, merge, plan_chunks

FRAME = 0.05


def _energy(duration: float, pauses: list[tuple[float, float]]) -> list[float]:
    """Loud everywhere except in the given pauses."""
    n = round(duration / FRAME)
    return [
        0.0 if any(a <= i * FRAME < b for a, b in pauses) else 0.3 + 0.1 * (i % 3) for i in range(n)
    ]


def test_short_audio_is_one_chunk() -> None:
    assert plan_chunks(_energy(30, []), FRAME, 30.0, 600, 60) == [(0.0, 30.0)]


def test_cuts_fall_inside_the_pauses_and_chunks_stay_bounded() -> None:
    pauses = [(52.0, 53.0), (101.0, 102.5), (170.0, 171.0)]
    spans = plan_chunks(_energy(200, pauses), FRAME, 200.0, 60, 20)
    assert spans[0][0] == 0.0
    assert spans[-1][1] == 200.0
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end == start  # contiguous: nothing lost, nothing twice
    assert all(b - a <= 60 for a, b in spans)
    cuts = [end for _, end in spans[:-1]]
    assert 52.0 <= cuts[0] <= 53.0
    assert 101.0 <= cuts[1] <= 102.5


def test_without_any_pause_the_cut_is_at_the_limit_or_before() -> None:
    spans = plan_chunks([0.5] * 4000, FRAME, 200.0, 60, 20)
    assert all(0 < b - a <= 60 for a, b in spans)
    assert spans[-1][1] == 200.0


def _seg(words: list[tuple[float, float, str]]) -> Segment:
    ws = [Word(start=a, end=b, text=t) for a, b, t in words]
    return Segment(start=ws[0].start, end=ws[-1].end, text=" ".join(w.text for w in ws), words=ws)


def test_merge_shifts_times_and_keeps_every_word_once() -> None:
    # chunk 1 is 0-10 s and reports "four" past its own end (timestamps drift);
    # chunk 2 starts at 10 s and hears "four" again at its start.
    a = Transcript(
        segments=[
            _seg([(1, 2, "one"), (3, 4, "two")]),
            _seg([(8, 9, "three"), (9.6, 10.6, "four")]),
        ],
        language="en",
    )
    b = Transcript(
        segments=[_seg([(0.0, 0.4, "four"), (1, 2, "five")]), _seg([(3, 4, "six")])], language="en"
    )
    merged = merge([ChunkResult(0, 10, a), ChunkResult(10, 20, b)], duration=20)
    words = [w for s in merged.segments for w in s.words]
    assert [w.text for w in words] == ["one", "two", "three", "four", "five", "six"]
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert words[-1].start == 13
    assert words[-1].end == 14
    assert all(0 <= w.start <= w.end <= 20 for w in words)
    assert merged.text == "one two three four five six"
    assert merged.duration == 20
    assert merged.language == "en"


def test_merge_clamps_times_into_the_audio() -> None:
    a = Transcript(segments=[_seg([(0, 1, "hi"), (4.5, 6.0, "there")])])
    merged = merge([ChunkResult(0, 5, a)], duration=5)
    assert merged.segments[0].words[-1].end == 5
    assert merged.segments[0].end == 5
