"""Request bodies (validated; unknown fields refused so typos surface as 422)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_NAME = r"^[A-Za-z0-9_.:/-]{1,100}$"


class SubmitOptions(BaseModel):
    """Options of a submission (multipart form fields or JSON)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=500)
    language: str | None = Field(default=None, pattern=r"^(auto|[a-z]{2,3}(-[A-Za-z]{2,4})?)$")
    transcribe_engine: str | None = Field(default=None, pattern=_NAME)
    transcribe_model: str | None = Field(default=None, pattern=_NAME)
    summarize_engine: str | None = Field(default=None, pattern=_NAME)
    summarize_model: str | None = Field(default=None, pattern=_NAME)
    template: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    instructions: str | None = Field(default=None, max_length=4000)
    min_speakers: int | None = Field(default=None, ge=1, le=32)
    max_speakers: int | None = Field(default=None, ge=1, le=32)
    webhook_url: str | None = Field(default=None, max_length=2000)
    priority: int = Field(default=0, ge=-100, le=100)

    @model_validator(mode="after")
    def _speakers_in_order(self) -> SubmitOptions:
        if self.min_speakers and self.max_speakers and self.min_speakers > self.max_speakers:
            raise ValueError("min_speakers must not exceed max_speakers")
        return self

    def stored_options(self) -> dict[str, object]:
        """What the meeting keeps in ``options`` (everything but title and priority)."""
        return self.model_dump(exclude={"title", "priority"}, exclude_none=True)


class UrlSubmission(SubmitOptions):
    """JSON submission of a recording by URL."""

    source_url: str = Field(max_length=2000)


class RerunRequest(BaseModel):
    """Re-run one stage (and those after it) with other settings."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal["transcribe", "summarize"]
    template: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    instructions: str | None = Field(default=None, max_length=4000)
    summarize_engine: str | None = Field(default=None, pattern=_NAME)
    summarize_model: str | None = Field(default=None, pattern=_NAME)
    transcribe_engine: str | None = Field(default=None, pattern=_NAME)
    transcribe_model: str | None = Field(default=None, pattern=_NAME)
    language: str | None = Field(default=None, pattern=r"^(auto|[a-z]{2,3}(-[A-Za-z]{2,4})?)$")


class PriorityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=-100, le=100)


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    events: list[str] = Field(
        default_factory=lambda: ["meeting.completed", "meeting.failed", "meeting.cancelled"]
    )
