"""Speech-to-text engines behind one interface, and the registry that picks one per job.

An engine turns one piece of audio into a ``Transcript`` whose times are relative to that
piece. It reports each finished segment through ``on_segment`` as soon as it has it (the
handler turns those into live events and progress), checks ``request.cancel_flag`` while
it works, and raises ``RetryableError`` / ``PermanentError`` (shared.errors) for failures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shared.errors import PermanentError
from shared.transcript import Segment, Transcript

if TYPE_CHECKING:
    from transcriber.audio import Samples
    from transcriber.settings import Settings

OnSegment = Callable[[Segment], Coroutine[Any, Any, None]]


@dataclass
class Audio:
    """What an engine transcribes: a file, or decoded 16 kHz mono samples of one chunk."""

    path: Path | None = None
    samples: Samples | None = None
    duration: float = 0.0


@dataclass
class Request:
    """Per-job options an engine honours."""

    language: str | None = None
    model: str | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    cancel_flag: threading.Event = field(default_factory=threading.Event)


class Engine(Protocol):
    """One speech-to-text backend."""

    name: str
    #: True when the engine must see the whole meeting (e.g. vendor-side diarization).
    whole_file: bool

    def model_name(self, requested: str | None) -> str:
        """The model a job will use (for events and metrics)."""
        ...

    async def transcribe(self, audio: Audio, request: Request, on_segment: OnSegment) -> Transcript:
        """Transcribe ``audio``; times in the result are relative to its start."""
        ...


def _whisper(settings: Settings) -> Engine:
    from transcriber.engines.whisper import WhisperEngine

    return WhisperEngine(settings)


def _speechmatics(settings: Settings) -> Engine:
    from transcriber.engines.speechmatics import SpeechmaticsEngine

    return SpeechmaticsEngine(settings)


def _openai(settings: Settings) -> Engine:
    from transcriber.engines.openai import OpenAIEngine

    return OpenAIEngine(settings)


def _noop(settings: Settings) -> Engine:
    from transcriber.engines.noop import NoopEngine

    return NoopEngine()


REGISTRY: dict[str, Callable[[Settings], Engine]] = {
    "whisper": _whisper,
    "speechmatics": _speechmatics,
    "openai": _openai,
    "noop": _noop,
}


def engine_for(name: str | None, settings: Settings) -> Engine:
    """The engine a job asked for, or the configured default; unknown names fail the job."""
    chosen = name or settings.engine
    factory = REGISTRY.get(chosen)
    if factory is None:
        raise PermanentError(
            f"unknown transcription engine {chosen!r}; choose one of {', '.join(sorted(REGISTRY))}",
            code="unknown_engine",
        )
    return factory(settings)


def empty(duration: float, engine: str, model: str, language: str | None = None) -> Transcript:
    """A valid transcript with no speech in it."""
    return Transcript(language=language, duration=duration, engine=engine, model=model)
