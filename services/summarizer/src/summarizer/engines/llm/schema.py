"""What the model must answer, and how its answer becomes checked ``Minutes``.

The answer schema is separate from ``shared.minutes.Minutes``: every field is required and
no extra keys are allowed, which is what OpenAI's strict structured output demands, and it
carries no fields the model should not invent (engine, chapter ends).
"""

from __future__ import annotations

import bisect
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from shared.minutes import ActionItem, Chapter, Decision, KeyPoint, Minutes, OpenQuestion
from shared.transcript import Transcript

from summarizer.engines.base import person

_CITE = "Start times (seconds, as in [t=…]) of the transcript lines this comes from"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMKeyPoint(_Strict):
    text: str
    citations: list[float] = Field(description=_CITE)


class LLMDecision(_Strict):
    text: str
    rationale: str | None
    decided_by: str | None = Field(description="Speaker label (S1…) or the name as stated")
    citations: list[float] = Field(description=_CITE)


class LLMActionItem(_Strict):
    task: str
    owner: str | None = Field(description="Speaker label (S1…) or the person named")
    due: str | None = Field(description="Due date exactly as stated, e.g. 'Friday'")
    citations: list[float] = Field(description=_CITE)


class LLMOpenQuestion(_Strict):
    text: str
    citations: list[float] = Field(description=_CITE)


class LLMChapter(_Strict):
    title: str
    start: float = Field(description="Start time (s) of the chapter's first line")
    citations: list[float] = Field(description=_CITE)


class LLMMinutes(_Strict):
    title: str
    summary: str
    summary_citations: list[float] = Field(description=_CITE)
    key_points: list[LLMKeyPoint]
    decisions: list[LLMDecision]
    action_items: list[LLMActionItem]
    open_questions: list[LLMOpenQuestion]
    chapters: list[LLMChapter]


def json_schema() -> dict[str, Any]:
    """The JSON schema of the answer, for ``response_format``."""
    return LLMMinutes.model_json_schema()


EMPTY = LLMMinutes(
    title="",
    summary="",
    summary_citations=[],
    key_points=[],
    decisions=[],
    action_items=[],
    open_questions=[],
    chapters=[],
)


class CitationChecker:
    """Maps cited times onto real segment starts: inside a segment → its start; else the
    nearest start within ``tolerance`` seconds; else the citation is dropped."""

    def __init__(self, transcript: Transcript, tolerance: float) -> None:
        self.segments = sorted((s.start, max(s.end, s.start)) for s in transcript.segments)
        self.starts = [s for s, _ in self.segments]
        self.tolerance = tolerance
        self.corrected = 0
        self.dropped = 0

    def snap(self, t: float) -> float | None:
        """The segment start ``t`` means, or None if it cites nothing in the transcript."""
        if not self.starts:
            return None
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and self.segments[i][0] <= t <= self.segments[i][1]:
            snapped = self.segments[i][0]
        else:
            near = [j for j in (i, i + 1) if 0 <= j < len(self.starts)]
            j = min(near, key=lambda k: abs(self.starts[k] - t))
            if abs(self.starts[j] - t) > self.tolerance:
                self.dropped += 1
                return None
            snapped = self.starts[j]
        if abs(snapped - t) > 0.05:  # the prompt shows times to 0.1 s
            self.corrected += 1
        return snapped

    def check(self, cited: list[float]) -> list[float]:
        """Valid, de-duplicated, sorted citations."""
        return sorted({s for t in cited if (s := self.snap(t)) is not None})


def _chapters(answer: LLMMinutes, checker: CitationChecker, end: float) -> list[Chapter]:
    """Chapters at real segment starts, each ending where the next begins."""
    titles: dict[float, str] = {}
    for c in answer.chapters:
        if (s := checker.snap(c.start)) is not None:
            titles.setdefault(s, c.title)
    starts = sorted(titles)
    ends = [*starts[1:], max([end, *starts])] if starts else []
    return [
        Chapter(title=titles[a], start=a, end=b, citations=[a])
        for a, b in zip(starts, ends, strict=True)
    ]


def to_minutes(
    answer: LLMMinutes, checker: CitationChecker, speakers: dict[str, str], end: float
) -> Minutes:
    """Checked minutes: citations snapped or dropped, items left citing nothing dropped."""
    chk = checker.check

    def keep(items: list[Any]) -> list[Any]:
        return [item for item in items if item.citations]

    decisions = [
        Decision(
            text=d.text,
            rationale=d.rationale,
            decided_by=person(d.decided_by, speakers),
            citations=chk(d.citations),
        )
        for d in answer.decisions
    ]
    actions = [
        ActionItem(
            task=a.task,
            owner=person(a.owner, speakers),
            due=a.due or None,
            citations=chk(a.citations),
        )
        for a in answer.action_items
    ]
    return Minutes(
        title=answer.title,
        summary=answer.summary,
        summary_citations=chk(answer.summary_citations),
        key_points=keep(
            [KeyPoint(text=k.text, citations=chk(k.citations)) for k in answer.key_points]
        ),
        decisions=keep(decisions),
        action_items=keep(actions),
        open_questions=keep(
            [OpenQuestion(text=q.text, citations=chk(q.citations)) for q in answer.open_questions]
        ),
        chapters=_chapters(answer, checker, end),
    )
