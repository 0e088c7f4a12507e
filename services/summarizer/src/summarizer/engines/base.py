"""What every summary engine takes and returns."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from shared.minutes import Minutes
from shared.transcript import Transcript

#: ``await progress(percent, message)``; also serves as a heartbeat.
Progress = Callable[[float, str], Awaitable[None]]


async def no_progress(percent: float, message: str) -> None:
    """A progress callback that reports nowhere (tests, benchmarks)."""


@dataclass(frozen=True)
class SummaryRequest:
    """What the submission asks for besides the transcript."""

    template: str = "default"
    instructions: str | None = None
    model: str | None = None
    #: Speaker label → display name (the transcript's names overlaid with the job's).
    speaker_names: dict[str, str] = field(default_factory=dict)
    cancel_flag: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class SummaryResult:
    minutes: Minutes
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0


class Engine(Protocol):
    """A summary engine: a transcript in, minutes out."""

    name: str

    def model_for(self, request: SummaryRequest) -> str:
        """The model this engine would use for ``request`` ("" when it has none)."""
        ...

    async def summarize(
        self, transcript: Transcript, request: SummaryRequest, progress: Progress
    ) -> SummaryResult:
        """Summarize ``transcript``; raises shared.errors on failure."""
        ...


_NOBODY = {"", "none", "null", "n/a", "unknown", "unassigned", "tbd", "everyone", "team"}


def person(who: str | None, speakers: dict[str, str]) -> str | None:
    """A speaker label where an owner names a speaker ("Alice", "S1 (Alice)"); else as stated."""
    if who is None or who.strip().lower() in _NOBODY:
        return None
    who = who.strip()
    label = who.split(" ", 1)[0]
    if label in speakers or (label[:1] == "S" and label[1:].isdigit()):
        return label
    by_name = {name.lower(): lab for lab, name in speakers.items()}
    return by_name.get(who.lower(), who)
