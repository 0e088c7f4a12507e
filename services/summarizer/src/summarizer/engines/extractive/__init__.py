"""The local extractive engine: TF-IDF + MMR sentence ranking, cue patterns, topic chapters."""

from summarizer.engines.extractive.engine import ExtractiveEngine

__all__ = ["ExtractiveEngine"]
