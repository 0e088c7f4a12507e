"""Fields every message carries."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """An aware UTC timestamp."""
    return datetime.now(UTC)


class Stage(StrEnum):
    """Pipeline stages, in order. Also the routing keys of the jobs exchange."""

    INGEST = "ingest"
    TRANSCRIBE = "transcribe"
    SUMMARIZE = "summarize"


class Message(BaseModel):
    """Base of every message: frozen, unknown fields ignored (additive evolution)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    job_id: UUID
