"""Minutes templates: what to emphasise for a kind of meeting.

The LLM engine puts a template's guidance in its system prompt; the extractive engine only
records the template (its cue patterns are the same for every kind of meeting).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import PermanentError


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    guidance: str


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "default",
            "Meeting minutes",
            "Write general meeting minutes: what was discussed, what was decided, who does what "
            "by when, and what is still open.",
        ),
        Template(
            "standup",
            "Stand-up notes",
            "This is a stand-up. Key points: per person, what they did and what they will do "
            "next. Blockers go to open questions, naming who is blocked. Keep the summary to "
            "two sentences.",
        ),
        Template(
            "one-on-one",
            "One-on-one notes",
            "This is a one-on-one between a manager and a report. Key points: wins, concerns, "
            "feedback given, career topics. Action items with their owner. Be discreet: no "
            "judgement of people beyond what was said.",
        ),
        Template(
            "interview",
            "Interview notes",
            "This is an interview. Key points: the questions asked and the substance of each "
            "answer, with evidence of skills. Decisions only if a hiring decision was stated. "
            "Open questions: topics to probe in a next round.",
        ),
        Template(
            "sales-call",
            "Sales call notes",
            "This is a sales call. Key points: the customer's needs, pain points, budget, "
            "timeline, decision makers and objections. Action items: agreed next steps with "
            "owners on both sides.",
        ),
    )
}

_ALIASES = {"stand-up": "standup", "1on1": "one-on-one", "1:1": "one-on-one", "sales": "sales-call"}


def get_template(name: str | None) -> Template:
    """The template called ``name`` (``_``/``-`` and case do not matter); else PermanentError."""
    key = (name or "default").strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in TEMPLATES:
        known = ", ".join(TEMPLATES)
        raise PermanentError(
            f"unknown template {name!r}; choose one of: {known}", code="bad_template"
        )
    return TEMPLATES[key]
