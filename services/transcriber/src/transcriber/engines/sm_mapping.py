"""Speechmatics ``json-v2`` results mapped to our transcript model.

``results[]`` holds words and punctuation, each with start/end times and ``alternatives``
(content, confidence, speaker). Punctuation attaches to the previous word (or the next one
when ``attaches_to`` says so). Speakers are ``S1``, ``S2`` …; ``UU`` means unknown.
Segments are speaker turns, split further at sentence ends and long pauses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.transcript import Segment, Transcript, Word

UNKNOWN_SPEAKER = "UU"
#: A pause longer than this (seconds) starts a new segment even within a sentence.
PAUSE_S = 1.5


@dataclass
class _Item:
    start: float
    end: float
    text: str
    confidence: float | None
    speaker: str | None
    eos: bool = False
    punct: list[str] = field(default_factory=list)


def _alt(result: Any) -> Any:
    alts = getattr(result, "alternatives", None) or []
    return alts[0] if alts else None


def _items(results: list[Any]) -> list[_Item]:
    items: list[_Item] = []
    pending_prefix = ""
    for r in results:
        alt = _alt(r)
        if alt is None:
            continue
        content = str(alt.content)
        if r.type == "punctuation":
            if getattr(r, "attaches_to", None) == "next":
                pending_prefix += content
            elif items:
                items[-1].text += content
                items[-1].eos = items[-1].eos or bool(r.is_eos) or content in ".?!"
            continue
        if r.type != "word":
            continue
        speaker = alt.speaker if alt.speaker and alt.speaker != UNKNOWN_SPEAKER else None
        conf = None if alt.confidence is None else min(1.0, max(0.0, float(alt.confidence)))
        start = max(0.0, float(r.start_time))
        items.append(
            _Item(start, max(start, float(r.end_time)), pending_prefix + content, conf, speaker)
        )
        pending_prefix = ""
    return items


def _segments(items: list[_Item]) -> list[Segment]:
    segments: list[Segment] = []
    turn: list[_Item] = []

    def flush() -> None:
        if turn:
            words = [
                Word(
                    start=i.start,
                    end=i.end,
                    text=i.text,
                    confidence=i.confidence,
                    speaker=i.speaker,
                )
                for i in turn
            ]
            segments.append(
                Segment(
                    start=turn[0].start,
                    end=turn[-1].end,
                    text=" ".join(i.text for i in turn),
                    speaker=turn[0].speaker,
                    words=words,
                )
            )
            turn.clear()

    for it in items:
        if turn and (it.speaker != turn[-1].speaker or it.start - turn[-1].end > PAUSE_S):
            flush()
        turn.append(it)
        if it.eos:
            flush()
    flush()
    return segments


def to_transcript(result: Any, duration: float, model: str) -> Transcript:
    """Our transcript from the client's ``Transcript`` (parsed json-v2)."""
    segments = _segments(_items(list(getattr(result, "results", []) or [])))
    meta = getattr(result, "metadata", None)
    cfg = getattr(meta, "transcription_config", None) or {}
    language = cfg.get("language") if isinstance(cfg, dict) else None
    end = max([duration, *(s.end for s in segments)])
    return Transcript(
        language=language if language != "auto" else None,
        duration=end,
        segments=segments,
        engine="speechmatics",
        model=model,
    )
