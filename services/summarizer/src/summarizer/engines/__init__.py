"""Summary engines behind one interface, chosen by name."""

from __future__ import annotations

from shared.errors import PermanentError

from summarizer.engines.base import Engine, Progress, SummaryRequest, SummaryResult, no_progress
from summarizer.settings import Settings

ENGINES = ("extractive", "openai", "noop")


def get_engine(name: str | None, settings: Settings) -> Engine:
    """The engine called ``name`` (the configured default when None); else PermanentError."""
    chosen = (name or settings.engine).strip().lower()
    if chosen == "extractive":
        from summarizer.engines.extractive import ExtractiveEngine

        return ExtractiveEngine(settings.summary_sentences, settings.key_points)
    if chosen == "openai":
        from summarizer.engines.llm import OpenAIEngine

        return OpenAIEngine(settings)
    if chosen == "noop":
        from summarizer.engines.noop import NoopEngine

        return NoopEngine()
    raise PermanentError(
        f"unknown summary engine {chosen!r}; choose one of: {', '.join(ENGINES)}",
        code="bad_engine",
    )


__all__ = [
    "ENGINES",
    "Engine",
    "Progress",
    "SummaryRequest",
    "SummaryResult",
    "get_engine",
    "no_progress",
]
