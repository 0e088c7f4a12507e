"""Decisions, action items and open questions found by cue phrases (English).

Precision over recall: an item needs an explicit cue ("we decided", "let's go with",
"X will … by Friday", "action item: …"); a sentence without one never becomes an item, and
hedged or negated sentences ("if we decide", "we haven't decided") never do either.
"""

from __future__ import annotations

import re

from shared.minutes import ActionItem, Decision, OpenQuestion

from summarizer.engines.extractive.text import Sentence, clean

_DAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|march|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WHEN = (
    rf"(?:(?:next|this|coming)\s+{_DAY}|{_DAY}(?:\s+(?:morning|afternoon|evening))?"
    r"|tomorrow(?:\s+(?:morning|afternoon))?|tonight|today|eod|eow|cob"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:day|week|month|sprint|quarter|year)"
    r"|next\s+(?:week|month|sprint|quarter)"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|the\s+\d{{1,2}}(?:st|nd|rd|th)(?:\s+of\s+{_MONTH})?"
    r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?"
    r"|(?:the\s+)?(?:next|this)\s+(?:standup|stand-up|meeting|call|sync|review))"
)
_DUE = re.compile(
    rf"[,\s]*\b(?:by|before|until|no later than|due|on)\s+(?P<due>{_WHEN})\b", re.IGNORECASE
)
_DUE_BARE = re.compile(
    rf"[,\s]*\b(?P<due>tomorrow|tonight|next week|(?:this|next)\s+{_DAY})\b", re.I
)

_MODAL = (
    r"(?:\s+will|'ll|\u2019ll|\s+(?:is|am|are)\s+going\s+to|'m\s+going\s+to|'re\s+going\s+to"
    r"|\s+(?:needs?|has|have)\s+to|\s+shall|\s+can\s+take\s+care\s+of)"
)
_COMMIT = re.compile(
    rf"(?:^|[,;:]\s*|\b(?:and|so|then|okay|ok)\s+)(?P<who>I|[Ww]e|[Yy]ou|[A-Z][a-z]+){_MODAL}\s+"
    r"(?P<rest>.+)"
)
_REQUEST = re.compile(
    r"^(?P<who>[A-Z][a-z]+),?\s+(?:can|could|would)\s+you(?:\s+please)?\s+(?P<rest>.+)"
)
_EXPLICIT = re.compile(
    r"\baction item(?:\s+for\s+(?P<who>me|[A-Z][a-z]+))?\s*"
    r"(?:[:—-]|,|\bis(?:\s+to|\s+that|\s+for)?\b)?\s*(?P<rest>.*)",
    re.IGNORECASE,
)
_NAMED_TASK = re.compile(r"^(?P<who>[A-Z][a-z]+)\s+(?:to|will|should)\s+(?P<rest>.+)")
_HEDGE = re.compile(r"\b(?:if|maybe|perhaps|might|unless|whether|probably not)\b", re.IGNORECASE)
_NOT_A_PERSON_TEXT = (
    "The This That It There They He She What Which Who Someone Everyone Nobody Somebody Also "
    "And But So Then Now Well Okay Yeah Yes No Maybe Let Our Your Their My His Her One Each "
    "Both All Any Nothing Everything Something Anyone"
)
_NOT_A_PERSON = frozenset(_NOT_A_PERSON_TEXT.split())

_DECISION = re.compile(
    r"\b(?:we(?:'ve|\s+have)?\s+(?:all\s+)?(?:decided|agreed)|(?:it's|it\s+is|that's)\s+"
    r"(?:decided|settled|agreed)|decided\s+to|the\s+decision\s+is|(?:final\s+)?decision\s*:"
    r"|let'?s\s+go\s+with|we(?:'ll|\s+will)\s+go\s+with|we(?:'re|\s+are)\s+going\s+(?:to\s+go\s+)?"
    r"with|agreed\s+on|settled\s+on|(?:let's|we'll)\s+stick\s+with)\b",
    re.IGNORECASE,
)
_NOT_DECIDED = re.compile(
    r"\b(?:not|haven't|hasn't|didn't|don't|never|no)\s+(?:yet\s+)?(?:decided|agreed|decide|agree)"
    r"|\bundecided\b|\bif\s+we\s+(?:decide|agree|go)\b|\bwhether\b|\bshould\s+we\b",
    re.IGNORECASE,
)
_BECAUSE = re.compile(r"[,\s]+\b(?:because|since|as)\b\s+(?P<why>.+)$", re.IGNORECASE)
_OPEN = re.compile(
    r"\bopen\s+question\b|\bstill\s+(?:need|have)\s+to\s+(?:figure\s+out|decide|find\s+out|work"
    r"\s+out)\b|\b(?:haven't|have\s+not|not\s+yet)\s+(?:decided|agreed)\b|\bunclear\b|\bTBD\b"
    r"|\bto\s+be\s+determined\b|\bwe\s+don't\s+know\s+(?:yet\s+)?(?:whether|if|how|what|when|who)\b"
    r"|\bparking\s+lot\b|\bunresolved\b",
    re.IGNORECASE,
)


def _tidy(task: str) -> str:
    task = re.sub(
        r"^(?:also|then|please|let'?s|try\s+to|go\s+ahead\s+and)\s+", "", task.strip(), flags=re.I
    )
    task = task.strip(" ,;:.!?—-")
    return task[:1].upper() + task[1:] if task else task


def _due(text: str) -> tuple[str | None, str]:
    """The due date as stated, and the text without it."""
    for pattern in (_DUE, _DUE_BARE):
        m = pattern.search(text)
        if m:
            return m.group("due"), (text[: m.start()] + text[m.end() :]).strip()
    return None, text


def _owner(who: str, sentence: Sentence, vocative: str | None) -> str | None:
    if who == "I" or who.lower() == "me":
        return sentence.speaker
    if who.lower() == "we":
        return None
    if who.lower() == "you":
        return vocative
    return who


def _vocative(text: str) -> str | None:
    m = re.match(r"^(?P<n>[A-Z][a-z]+),", text)
    return m.group("n") if m and m.group("n") not in _NOT_A_PERSON else None


def _explicit_item(s: Sentence) -> ActionItem | None:
    m = _EXPLICIT.search(s.text)
    if not m:
        return None
    who, rest = m.group("who"), m.group("rest").strip()
    named = _NAMED_TASK.match(rest)
    if named and named.group("who") not in _NOT_A_PERSON:
        who, rest = named.group("who"), named.group("rest")
    if len(rest.split()) < 2:
        # "Update the runbook, that's an action item for Bob": the task precedes the cue.
        rest = re.sub(
            r"[,\s]*(?:that's|that\s+is|this\s+is)?\s*(?:an?\s+)?$", "", s.text[: m.start()]
        )
    if len(rest.split()) < 2:
        return None
    due, task = _due(rest)
    owner = _owner(who, s, None) if who else None
    return ActionItem(task=_tidy(task), owner=owner, due=due, citations=[s.start])


def action_item(s: Sentence) -> ActionItem | None:
    """The action item ``s`` states, if it has an explicit cue; else None."""
    explicit = _explicit_item(s)
    if explicit is not None:
        return explicit
    if _HEDGE.search(s.text):
        return None
    request = _REQUEST.match(s.text)
    m = request or _COMMIT.search(s.text)
    if m is None or (s.text.rstrip().endswith("?") and request is None):
        return None
    who = m.group("who")
    if who in _NOT_A_PERSON:
        return None
    due, task = _due(m.group("rest"))
    if due is None:
        # "X will …" without a when is too often talk, not a commitment.
        return None
    owner = who if request else _owner(who, s, _vocative(s.text))
    return ActionItem(task=_tidy(task), owner=owner, due=due, citations=[s.start])


def decision(s: Sentence) -> Decision | None:
    """The decision ``s`` states, if it has a decision cue and is not hedged or negated."""
    if not _DECISION.search(s.text) or _NOT_DECIDED.search(s.text) or s.text.endswith("?"):
        return None
    text, rationale = clean(s.text).rstrip("."), None
    because = _BECAUSE.search(text)
    if because:
        rationale = because.group("why").rstrip(".")
        text = text[: because.start()]
    return Decision(text=text, rationale=rationale, decided_by=s.speaker, citations=[s.start])


def open_question(s: Sentence) -> OpenQuestion | None:
    """An explicitly open point ("open question", "still need to figure out", "TBD")."""
    if not _OPEN.search(s.text):
        return None
    return OpenQuestion(text=clean(s.text), citations=[s.start])
