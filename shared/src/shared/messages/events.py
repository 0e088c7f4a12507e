"""Status events workers emit; the gateway persists and streams them.

``seq`` counts events within one dispatch, from 1; the gateway applies only events of the
meeting's current dispatch and dedupes by ``event_id``.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.messages.base import Message, Stage
from shared.transcript import Segment


class StageEvent(Message):
    type: str
    dispatch_id: UUID
    stage: Stage
    seq: int = Field(ge=1)
    worker: str = ""


class StageStarted(StageEvent):
    type: Literal["stage.started"] = "stage.started"
    engine: str | None = None
    model: str | None = None


class StageHeartbeat(StageEvent):
    """Proof of life while a stage runs; updates the deadline, not kept in the event log."""

    type: Literal["stage.heartbeat"] = "stage.heartbeat"


class StageProgress(StageEvent):
    type: Literal["stage.progress"] = "stage.progress"
    percent: float | None = Field(default=None, ge=0, le=100)
    message: str = ""
    #: Stage-specific counters, e.g. ``bytes_downloaded`` or ``seconds_decoded``.
    detail: dict[str, float] = Field(default_factory=dict)


class SegmentTranscribed(StageEvent):
    """A live transcript segment, so users read text while transcription runs."""

    type: Literal["transcript.segment"] = "transcript.segment"
    segment: Segment


class IngestCompleted(StageEvent):
    type: Literal["ingest.completed"] = "ingest.completed"
    audio_key: str
    audio_sha256: str
    duration_s: float = Field(ge=0)
    original_format: str = ""
    original_codec: str = ""
    original_size: int = Field(default=0, ge=0)
    silence_ratio: float = Field(default=0.0, ge=0, le=1)


class TranscriptCompleted(StageEvent):
    type: Literal["transcript.completed"] = "transcript.completed"
    transcript_key: str
    language: str | None = None
    duration_s: float = Field(default=0, ge=0)
    engine: str = ""
    model: str = ""
    speakers: list[str] = Field(default_factory=list)
    realtime_factor: float | None = None


class MinutesCompleted(StageEvent):
    type: Literal["minutes.completed"] = "minutes.completed"
    minutes_key: str
    engine: str = ""
    model: str = ""
    tokens_in: int = 0
    tokens_out: int = 0


class StageFailed(StageEvent):
    type: Literal["stage.failed"] = "stage.failed"
    code: str
    reason: str
    retryable: bool
    retry_after: float | None = None


class StageCancelled(StageEvent):
    type: Literal["stage.cancelled"] = "stage.cancelled"
