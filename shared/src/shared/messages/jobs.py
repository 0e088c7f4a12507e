"""Stage jobs the gateway dispatches to workers, and control messages."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.messages.base import Message, Stage


class StageJob(Message):
    """A unit of work for one stage of one meeting (``job_id`` is the meeting id)."""

    dispatch_id: UUID
    attempt: int = Field(default=1, ge=1)
    #: Seconds the stage may run before the gateway gives up on this dispatch.
    deadline_s: float = 7200.0

    @property
    def stage(self) -> Stage:
        raise NotImplementedError


class IngestJob(StageJob):
    """Fetch (URL) or take (upload) the source, validate it and normalize it to 16 kHz mono."""

    type: Literal["job.ingest"] = "job.ingest"
    source_key: str | None = None
    source_url: str | None = None
    source_headers: dict[str, str] = Field(default_factory=dict)
    max_duration_s: float | None = None

    @property
    def stage(self) -> Stage:
        return Stage.INGEST


class TranscribeJob(StageJob):
    """Turn normalized audio into a word-timed transcript."""

    type: Literal["job.transcribe"] = "job.transcribe"
    audio_key: str
    duration_s: float | None = None
    engine: str | None = None
    model: str | None = None
    language: str | None = None
    min_speakers: int | None = Field(default=None, ge=1)
    max_speakers: int | None = Field(default=None, ge=1)

    @property
    def stage(self) -> Stage:
        return Stage.TRANSCRIBE


class SummarizeJob(StageJob):
    """Turn a transcript into minutes."""

    type: Literal["job.summarize"] = "job.summarize"
    transcript_key: str
    engine: str | None = None
    model: str | None = None
    template: str = "default"
    instructions: str | None = None
    speaker_names: dict[str, str] = Field(default_factory=dict)

    @property
    def stage(self) -> Stage:
        return Stage.SUMMARIZE


class CancelRequested(Message):
    """Fanned out to every worker: abort the stage running for this meeting."""

    type: Literal["control.cancel"] = "control.cancel"
    dispatch_id: UUID | None = None
