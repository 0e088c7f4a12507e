"""Summarizer settings (environment prefix ``SUMMARIZER_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from shared.settings import CommonSettings

ResponseFormat = Literal["auto", "json_schema", "json_object"]


class Settings(CommonSettings):
    """Everything the summarizer reads from its environment; defaults run on a laptop offline."""

    model_config = SettingsConfigDict(env_prefix="SUMMARIZER_", env_file=".env", extra="ignore")

    #: Engine used when a job names none: ``extractive`` (local), ``openai`` or ``noop``.
    engine: str = "extractive"

    # ---- extractive -------------------------------------------------------------------
    #: Sentences in the summary paragraph and in the key points list.
    summary_sentences: int = Field(default=3, ge=1, le=10)
    key_points: int = Field(default=7, ge=0, le=30)

    # ---- openai-compatible chat endpoint ------------------------------------------------
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr = SecretStr("")
    openai_model: str = "gpt-4o-mini"
    #: ``auto`` asks for JSON-schema structured output and falls back to JSON mode when the
    #: server refuses it; the other two force one mode.
    openai_response_format: ResponseFormat = "auto"
    #: The model's context window in tokens; longer transcripts go through map-reduce.
    context_tokens: int = Field(default=16_000, ge=512)
    #: Tokens reserved for the model's answer (sent as ``max_tokens``).
    max_output_tokens: int = Field(default=2_000, ge=128)
    #: Times an invalid answer is sent back with its validation error before giving up.
    max_repair_attempts: int = Field(default=2, ge=0, le=10)
    temperature: float = Field(default=0.2, ge=0, le=2)
    #: Seconds one chat request may take, and to connect.
    openai_timeout: float = Field(default=300.0, gt=0)
    openai_connect_timeout: float = Field(default=10.0, gt=0)
    #: In-process retries of 429/5xx (honouring Retry-After) before the job is handed back.
    openai_max_retries: int = Field(default=2, ge=0, le=10)
    #: A cited time within this many seconds of a segment start is snapped to it.
    citation_tolerance: float = Field(default=3.0, ge=0)
