"""Long audio: where to cut it (at silences) and how to merge the chunks' transcripts.

Pure functions, so they are tested without audio or models. Chunks are contiguous spans of
at most ``max_s`` seconds; each cut is placed at the quietest moment of the last
``search_s`` seconds before the limit, so that (almost always) no word straddles a cut.
Merging shifts every chunk's times by its start and gives each word to exactly one chunk,
the one whose span holds the word's midpoint, so a word a chunk reported past its own end
(timestamps drift, or chunks that overlap) is never duplicated nor lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.transcript import Segment, Transcript, Word

#: Frames averaged when looking for the quietest point (0.3 s at 50 ms frames): a pause,
#: not a single quiet frame inside a word.
SMOOTH_FRAMES = 6


def _quietest(energy: Sequence[float], lo: int, hi: int) -> int:
    """Index of the frame in [lo, hi) at the centre of the quietest smoothed window."""
    best, best_val = hi - 1, float("inf")
    half = SMOOTH_FRAMES // 2
    for i in range(hi - 1, lo - 1, -1):  # backwards: on ties prefer the longer chunk
        a, b = max(0, i - half), min(len(energy), i + half + 1)
        val = sum(energy[a:b]) / max(1, b - a)
        if val < best_val:
            best, best_val = i, val
    return best


def plan_chunks(
    energy: Sequence[float], frame_s: float, duration: float, max_s: float, search_s: float
) -> list[tuple[float, float]]:
    """Contiguous ``(start, end)`` spans covering ``[0, duration]``, each at most ``max_s``."""
    if duration <= max_s:
        return [(0.0, duration)]
    spans: list[tuple[float, float]] = []
    start = 0.0
    while duration - start > max_s:
        limit = start + max_s
        lo = int(max(start + max_s / 2, limit - search_s) / frame_s)
        hi = max(lo + 1, min(len(energy), int(limit / frame_s)))
        cut = min(limit, max(start + frame_s, (_quietest(energy, lo, hi) + 0.5) * frame_s))
        spans.append((start, cut))
        start = cut
    spans.append((start, duration))
    return spans


def shift(seg: Segment, offset: float) -> Segment:
    """A segment with every time moved by ``offset`` seconds."""
    words = [
        w.model_copy(update={"start": w.start + offset, "end": w.end + offset}) for w in seg.words
    ]
    return seg.model_copy(
        update={"start": seg.start + offset, "end": seg.end + offset, "words": words}
    )


@dataclass(frozen=True)
class ChunkResult:
    """One chunk's transcript, its times relative to the chunk's ``start``."""

    start: float
    end: float
    transcript: Transcript


def _keep(seg: Segment, lo: float, hi: float) -> Segment | None:
    """The part of ``seg`` (absolute times) whose words' midpoints lie in [lo, hi)."""
    if not seg.words:
        mid = (seg.start + seg.end) / 2
        return seg if lo <= mid < hi else None
    words = [w for w in seg.words if lo <= (w.start + w.end) / 2 < hi]
    if not words:
        return None
    if len(words) == len(seg.words):
        return seg
    text = " ".join(w.text.strip() for w in words)
    return seg.model_copy(
        update={"words": words, "start": words[0].start, "end": words[-1].end, "text": text}
    )


def _clamp(seg: Segment, floor: float, duration: float) -> Segment:
    """Keep times monotonic and inside the audio."""
    words: list[Word] = []
    t = floor
    for w in seg.words:
        start = min(max(w.start, t), duration)
        end = min(max(w.end, start), duration)
        words.append(w.model_copy(update={"start": start, "end": end}))
        t = start
    start = min(max(seg.start, floor), duration)
    if words:
        start = min(start, words[0].start)
    end = min(max(seg.end, start, words[-1].end if words else start), duration)
    return seg.model_copy(update={"start": start, "end": end, "words": words})


def merge(parts: Sequence[ChunkResult], duration: float) -> Transcript:
    """One transcript from the chunks' transcripts: continuous times, every word once."""
    segments: list[Segment] = []
    floor = 0.0
    for i, part in enumerate(parts):
        lo = part.start if i else float("-inf")
        hi = part.end if i < len(parts) - 1 else float("inf")
        for seg in part.transcript.segments:
            kept = _keep(shift(seg, part.start), lo, hi)
            if kept is None:
                continue
            kept = _clamp(kept, floor, duration)
            segments.append(kept)
            floor = kept.start
    first = parts[0].transcript if parts else Transcript()
    languages = [p.transcript.language for p in parts if p.transcript.language]
    return first.model_copy(
        update={
            "segments": segments,
            "duration": duration,
            "language": max(set(languages), key=languages.count) if languages else None,
        }
    )
