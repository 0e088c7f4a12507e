"""Every message of the pipeline, and one adapter that decodes them all.

The ``type`` field is the discriminator and also the routing key.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from shared.messages.base import SCHEMA_VERSION, Message, Stage, utcnow
from shared.messages.events import (
    IngestCompleted,
    MinutesCompleted,
    SegmentTranscribed,
    StageCancelled,
    StageEvent,
    StageFailed,
    StageHeartbeat,
    StageProgress,
    StageStarted,
    TranscriptCompleted,
)
from shared.messages.jobs import CancelRequested, IngestJob, StageJob, SummarizeJob, TranscribeJob

Job = Annotated[IngestJob | TranscribeJob | SummarizeJob, Field(discriminator="type")]
Event = Annotated[
    StageStarted
    | StageHeartbeat
    | StageProgress
    | SegmentTranscribed
    | IngestCompleted
    | TranscriptCompleted
    | MinutesCompleted
    | StageFailed
    | StageCancelled,
    Field(discriminator="type"),
]
AnyMessage = Annotated[
    IngestJob
    | TranscribeJob
    | SummarizeJob
    | CancelRequested
    | StageStarted
    | StageHeartbeat
    | StageProgress
    | SegmentTranscribed
    | IngestCompleted
    | TranscriptCompleted
    | MinutesCompleted
    | StageFailed
    | StageCancelled,
    Field(discriminator="type"),
]

JOB_ADAPTER: TypeAdapter[Job] = TypeAdapter(Job)
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
MESSAGE_ADAPTER: TypeAdapter[AnyMessage] = TypeAdapter(AnyMessage)

COMPLETION_TYPES = {
    Stage.INGEST: IngestCompleted,
    Stage.TRANSCRIBE: TranscriptCompleted,
    Stage.SUMMARIZE: MinutesCompleted,
}


def decode(body: bytes) -> AnyMessage:
    """Decode and validate any pipeline message; raises ``pydantic.ValidationError``."""
    return MESSAGE_ADAPTER.validate_json(body)


def encode(message: Message) -> bytes:
    """Serialize a message to JSON bytes."""
    return message.model_dump_json().encode()


__all__ = [
    "COMPLETION_TYPES",
    "EVENT_ADAPTER",
    "JOB_ADAPTER",
    "MESSAGE_ADAPTER",
    "SCHEMA_VERSION",
    "AnyMessage",
    "CancelRequested",
    "Event",
    "IngestCompleted",
    "IngestJob",
    "Job",
    "Message",
    "MinutesCompleted",
    "SegmentTranscribed",
    "Stage",
    "StageCancelled",
    "StageEvent",
    "StageFailed",
    "StageHeartbeat",
    "StageJob",
    "StageProgress",
    "StageStarted",
    "SummarizeJob",
    "TranscribeJob",
    "TranscriptCompleted",
    "decode",
    "encode",
    "utcnow",
]
