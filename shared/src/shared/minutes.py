"""The minutes model every summary engine produces, and its Markdown rendering.

Every item cites one or more transcript times (segment starts, in seconds).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Citations = list[float]


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True)
    citations: Citations = Field(default_factory=list, description="Segment start times (s)")


class KeyPoint(_Item):
    text: str


class Decision(_Item):
    text: str
    rationale: str | None = None
    decided_by: str | None = Field(default=None, description="Speaker label or name")


class ActionItem(_Item):
    task: str
    owner: str | None = Field(default=None, description="Speaker label or named person")
    due: str | None = Field(default=None, description="Due date as stated, e.g. 'Friday'")


class OpenQuestion(_Item):
    text: str


class Chapter(_Item):
    title: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class Minutes(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str = ""
    summary: str = ""
    summary_citations: Citations = Field(default_factory=list)
    key_points: list[KeyPoint] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    open_questions: list[OpenQuestion] = Field(default_factory=list)
    chapters: list[Chapter] = Field(default_factory=list)
    engine: str = ""
    model: str = ""
    template: str = "default"
    #: Speaker label → name shown for owners and deciders (labels stay in the items).
    speakers: dict[str, str] = Field(default_factory=dict)


def _ts(seconds: float) -> str:
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def _cite(citations: Citations) -> str:
    return (" (" + ", ".join(f"[{_ts(c)}]" for c in citations) + ")") if citations else ""


def to_markdown(m: Minutes, speakers: dict[str, str] | None = None) -> str:
    """Render minutes as Markdown; ``speakers`` maps labels to user-given names.

    Names given here override the ones stored in the minutes (``m.speakers``).
    """
    names = {**m.speakers, **(speakers or {})}

    def who(label: str | None) -> str:
        return names.get(label, label) if label else ""

    out = [f"# {m.title or 'Meeting minutes'}", ""]
    if m.summary:
        out += ["## Summary", "", m.summary + _cite(m.summary_citations), ""]
    if m.key_points:
        out += ["## Key points", ""] + [f"- {k.text}{_cite(k.citations)}" for k in m.key_points]
        out.append("")
    if m.decisions:
        out += ["## Decisions", ""]
        for d in m.decisions:
            extra = f" — decided by {who(d.decided_by)}" if d.decided_by else ""
            why = f" Rationale: {d.rationale}" if d.rationale else ""
            out.append(f"- {d.text}{extra}.{why}{_cite(d.citations)}")
        out.append("")
    if m.action_items:
        out += ["## Action items", ""]
        for a in m.action_items:
            owner = f" — **{who(a.owner)}**" if a.owner else ""
            due = f" (due {a.due})" if a.due else ""
            out.append(f"- [ ] {a.task}{owner}{due}{_cite(a.citations)}")
        out.append("")
    if m.open_questions:
        out += ["## Open questions", ""]
        out += [f"- {q.text}{_cite(q.citations)}" for q in m.open_questions]
        out.append("")
    if m.chapters:
        out += ["## Chapters", ""]
        out += [f"- [{_ts(c.start)}-{_ts(c.end)}] {c.title}" for c in m.chapters]
        out.append("")
    engine = m.engine + (f" ({m.model})" if m.model else "")
    out.append(f"_Minutes by the {engine or 'unknown'} engine, template {m.template}._")
    return "\n".join(out) + "\n"
