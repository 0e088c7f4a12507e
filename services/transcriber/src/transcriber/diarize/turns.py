"""From labelled windows to speaker turns, and from turns to a speaker-labelled transcript.

Words take the speaker whose turns overlap them most (the nearest turn when none overlaps); a
segment whose words change speaker is split at that word. Labels become ``S1``, ``S2`` … in
order of first appearance in the transcript, so the same audio always yields the same labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.transcript import Segment, Transcript, Word


@dataclass(frozen=True)
class Turn:
    """One stretch of speech by one speaker (``speaker`` is a cluster index until relabelled)."""

    start: float
    end: float
    speaker: int


def windows_to_turns(
    windows: Sequence[tuple[float, float, int]], labels: Sequence[int]
) -> list[Turn]:
    """Turns from labelled windows ``(start, end, region)``; windows of one region overlap.

    Where two overlapping windows disagree, the boundary goes to the middle of their overlap.
    """
    cores: list[Turn] = []
    for i, (start, end, region) in enumerate(windows):
        prev_same = i > 0 and windows[i - 1][2] == region
        next_same = i + 1 < len(windows) and windows[i + 1][2] == region
        lo = (start + windows[i - 1][1]) / 2 if prev_same else start
        hi = (end + windows[i + 1][0]) / 2 if next_same else end
        lo = max(lo, cores[-1].end) if prev_same and cores else lo
        if hi > lo:
            cores.append(Turn(lo, hi, int(labels[i])))
    return merge_turns(cores)


def merge_turns(turns: Sequence[Turn], gap: float = 0.5) -> list[Turn]:
    """Join consecutive turns of one speaker separated by less than ``gap`` seconds."""
    out: list[Turn] = []
    for t in sorted(turns, key=lambda t: t.start):
        if out and out[-1].speaker == t.speaker and t.start - out[-1].end < gap:
            out[-1] = Turn(out[-1].start, max(out[-1].end, t.end), t.speaker)
        else:
            out.append(t)
    return out


def speaker_at(start: float, end: float, turns: Sequence[Turn]) -> int | None:
    """The speaker overlapping ``[start, end]`` most, else the nearest; None without turns."""
    if not turns:
        return None
    overlap: dict[int, float] = {}
    for t in turns:
        amount = min(end, t.end) - max(start, t.start)
        if amount > 0:
            overlap[t.speaker] = overlap.get(t.speaker, 0.0) + amount
    if overlap:
        return max(overlap, key=lambda s: overlap[s])
    middle = (start + end) / 2
    nearest = min(turns, key=lambda t: max(t.start - middle, middle - t.end))
    return nearest.speaker


def _join(words: Sequence[Word]) -> str:
    # faster-whisper words carry their own leading space; other engines' words do not.
    if any(w.text[:1].isspace() for w in words):
        return "".join(w.text for w in words).strip()
    return " ".join(w.text.strip() for w in words)


def _split(segment: Segment, turns: Sequence[Turn]) -> list[Segment]:
    if not segment.words:
        who = speaker_at(segment.start, segment.end, turns)
        return [segment.model_copy(update={"speaker": None if who is None else str(who)})]
    runs: list[list[Word]] = []
    for word in segment.words:
        who = speaker_at(word.start, word.end, turns)
        labelled = word.model_copy(update={"speaker": None if who is None else str(who)})
        if runs and runs[-1][-1].speaker == labelled.speaker:
            runs[-1].append(labelled)
        else:
            runs.append([labelled])
    if len(runs) == 1:
        return [segment.model_copy(update={"speaker": runs[0][0].speaker, "words": runs[0]})]
    out = []
    for i, run in enumerate(runs):
        start = segment.start if i == 0 else run[0].start
        end = segment.end if i == len(runs) - 1 else run[-1].end
        out.append(
            Segment(
                start=start, end=max(end, start), text=_join(run), speaker=run[0].speaker, words=run
            )
        )
    return out


def _relabel(segments: list[Segment]) -> list[Segment]:
    names: dict[str, str] = {}
    for seg in segments:
        for who in [w.speaker for w in seg.words] or [seg.speaker]:
            if who is not None:
                names.setdefault(who, f"S{len(names) + 1}")

    def name(who: str | None) -> str | None:
        return None if who is None else names[who]

    return [
        seg.model_copy(
            update={
                "speaker": name(seg.speaker),
                "words": [w.model_copy(update={"speaker": name(w.speaker)}) for w in seg.words],
            }
        )
        for seg in segments
    ]


def label_transcript(transcript: Transcript, turns: Sequence[Turn]) -> Transcript:
    """``transcript`` with every segment and word given a speaker ``S1``, ``S2`` … from ``turns``.

    Without any turn (no speech found) everything is attributed to ``S1``.
    """
    if not turns:
        turns = [Turn(0.0, max(transcript.duration, 1.0), 0)]
    segments = [part for seg in transcript.segments for part in _split(seg, turns)]
    return transcript.model_copy(update={"segments": _relabel(segments)})
