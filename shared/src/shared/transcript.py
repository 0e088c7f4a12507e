"""The transcript model every engine produces, and its exports (TXT, SRT, WebVTT, JSON)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Word(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    confidence: float | None = Field(default=None, ge=0, le=1)
    speaker: str | None = None


class Segment(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    speaker: str | None = None
    words: list[Word] = Field(default_factory=list)


class Transcript(BaseModel):
    """A speaker-labelled, word-timed transcript.

    ``speakers`` maps engine labels (``S1``, ``S2`` …) to names users gave them; exports
    show the name where there is one, so renaming never re-runs an engine.
    """

    model_config = ConfigDict(frozen=True)

    language: str | None = None
    duration: float = Field(default=0, ge=0)
    segments: list[Segment] = Field(default_factory=list)
    engine: str = ""
    model: str = ""
    speakers: dict[str, str] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)

    def speaker_name(self, label: str | None) -> str | None:
        """The display name of a speaker label (its user-given name if any)."""
        if label is None:
            return None
        return self.speakers.get(label) or label

    def speaker_labels(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        seen: dict[str, None] = {}
        for seg in self.segments:
            if seg.speaker:
                seen.setdefault(seg.speaker, None)
        return list(seen)

    def with_speaker_names(self, names: dict[str, str]) -> Transcript:
        """A copy whose speakers are renamed (labels stay, names are display only)."""
        return self.model_copy(update={"speakers": {**self.speakers, **names}})

    @property
    def text(self) -> str:
        return " ".join(seg.text.strip() for seg in self.segments if seg.text.strip())


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _short_clock(seconds: float) -> str:
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def to_txt(t: Transcript) -> str:
    """Plain text, one paragraph per speaker turn, each with its start time."""
    lines: list[str] = []
    current: str | None = None
    turn: list[str] = []
    turn_start = 0.0

    def flush() -> None:
        if turn:
            who = t.speaker_name(current)
            prefix = f"[{_short_clock(turn_start)}] " + (f"{who}: " if who else "")
            lines.append(prefix + " ".join(turn))

    for seg in t.segments:
        text = seg.text.strip()
        if not text:
            continue
        if seg.speaker != current or not turn:
            flush()
            current, turn, turn_start = seg.speaker, [], seg.start
        turn.append(text)
    flush()
    return "\n\n".join(lines) + ("\n" if lines else "")


def to_srt(t: Transcript) -> str:
    """SubRip subtitles; the speaker's name prefixes each cue when known."""
    cues: list[str] = []
    for i, seg in enumerate((s for s in t.segments if s.text.strip()), start=1):
        who = t.speaker_name(seg.speaker)
        text = (f"{who}: " if who else "") + seg.text.strip()
        start, end = _clock(seg.start, ","), _clock(max(seg.end, seg.start), ",")
        cues.append(f"{i}\n{start} --> {end}\n{text}\n")
    return "\n".join(cues)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(t: Transcript) -> str:
    """WebVTT with ``<v Speaker>`` voice tags when speakers are known."""
    out = ["WEBVTT", ""]
    for seg in t.segments:
        if not seg.text.strip():
            continue
        start, end = _clock(seg.start, "."), _clock(max(seg.end, seg.start), ".")
        who = t.speaker_name(seg.speaker)
        body = _vtt_escape(seg.text.strip())
        if who:
            body = f"<v {_vtt_escape(who)}>{body}"
        out += [f"{start} --> {end}", body, ""]
    return "\n".join(out)


def to_json(t: Transcript) -> str:
    """The full transcript model as JSON."""
    return t.model_dump_json(indent=2)


EXPORTERS = {"txt": to_txt, "srt": to_srt, "vtt": to_vtt, "json": to_json}
MEDIA_TYPES = {
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "json": "application/json",
}
