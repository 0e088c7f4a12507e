"""Chapters from topic shifts (TextTiling over segments), titled by their heaviest terms."""

from __future__ import annotations

from collections import Counter
from itertools import chain, pairwise

from shared.minutes import Chapter

from summarizer.engines.extractive.text import Vector, cosine, tfidf, top_terms

#: Segments on each side of a gap compared for a topic shift.
WINDOW = 6
#: Chapters are at least this long (seconds), and a meeting gets at most one per this many.
MIN_CHAPTER_S = 60.0
SECONDS_PER_CHAPTER = 240.0
MAX_CHAPTERS = 12


def _gap_similarities(seg_terms: list[list[str]], weights: dict[str, float]) -> list[float]:
    """Similarity of the windows before and after each gap (gap i sits before segment i)."""
    sims = [1.0]  # no gap before the first segment
    for i in range(1, len(seg_terms)):
        left = tfidf(chain.from_iterable(seg_terms[max(0, i - WINDOW) : i]), weights)
        right = tfidf(chain.from_iterable(seg_terms[i : i + WINDOW]), weights)
        sims.append(cosine(left, right) if left and right else 1.0)
    return sims


def _depths(sims: list[float]) -> list[float]:
    """TextTiling depth: how far a gap's similarity dips below the peaks on both sides."""
    out = [0.0]
    for i in range(1, len(sims)):
        s = sims[i]
        left = max(sims[max(1, i - WINDOW) : i + 1])
        right = max(sims[i : i + WINDOW + 1])
        out.append((left - s) + (right - s))
    return out


def boundaries(
    starts: list[float], seg_terms: list[list[str]], weights: dict[str, float], duration: float
) -> list[int]:
    """Indices of the segments that open a new chapter (the first chapter excluded)."""
    if len(starts) < 2 * WINDOW or duration < 3 * MIN_CHAPTER_S:
        return []
    depths = _depths(_gap_similarities(seg_terms, weights))
    wanted = min(MAX_CHAPTERS, max(1, int(duration // SECONDS_PER_CHAPTER))) - 1
    min_len = max(MIN_CHAPTER_S, duration / (MAX_CHAPTERS * 1.5))
    mean = sum(depths[1:]) / max(1, len(depths) - 1)
    chosen: list[int] = []
    for i in sorted(range(1, len(depths)), key=lambda j: -depths[j]):
        if len(chosen) >= wanted or depths[i] <= mean:
            break
        t = starts[i]
        edges = [0.0, duration, *(starts[c] for c in chosen)]
        if all(abs(t - e) >= min_len for e in edges):
            chosen.append(i)
    return sorted(chosen)


def title_of(vec: Vector, surface: dict[str, str], n: int = 3) -> str:
    """A short title from the heaviest terms, shown as the words people actually said."""
    words = [surface.get(t, t) for t in top_terms(vec, n)]
    if not words:
        return "Discussion"
    text = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
    return text[:1].upper() + text[1:]


def make_chapters(
    starts: list[float],
    ends: list[float],
    seg_terms: list[list[str]],
    weights: dict[str, float],
    surface: dict[str, str],
    end: float,
) -> list[Chapter]:
    """Split the meeting at topic shifts; one chapter when it is short or has one topic."""
    if not starts:
        return []
    cuts = [0, *boundaries(starts, seg_terms, weights, end - starts[0]), len(starts)]
    chapters = []
    for a, b in pairwise(cuts):
        terms = Counter(chain.from_iterable(seg_terms[a:b]))
        vec = tfidf(terms.elements(), weights)
        stop = starts[b] if b < len(starts) else max(end, ends[-1])
        chapters.append(
            Chapter(title=title_of(vec, surface), start=starts[a], end=stop, citations=[starts[a]])
        )
    return chapters
