"""Ingest settings (environment prefix ``INGEST_``)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict
from shared.settings import CommonSettings

GiB = 1 << 30


class Settings(CommonSettings):
    """Everything the ingest worker reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", env_file=".env", extra="ignore")

    #: ``pyav`` decodes and normalizes; ``noop`` only probes the duration (benchmarks).
    engine: Literal["pyav", "noop"] = "pyav"

    # ---- URL sources ------------------------------------------------------------------
    #: Largest download accepted, in bytes.
    max_download_bytes: int = Field(default=4 * GiB, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    #: Seconds without receiving a byte before a download attempt is abandoned.
    read_timeout: float = Field(default=30.0, gt=0)
    #: Upper bound for one whole download attempt (a server trickling bytes is cut off).
    download_timeout: float = Field(default=3600.0, gt=0)
    #: Attempts per download on transient errors (timeouts, 5xx, resets), with backoff.
    fetch_attempts: int = Field(default=3, ge=1, le=10)
    #: First backoff in seconds; it doubles per attempt (capped at 30 s).
    fetch_backoff: float = Field(default=1.0, ge=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    #: Addresses, networks (CIDR) or host names the SSRF guard lets through although they
    #: are not public, e.g. ``10.0.5.0/24,minio.internal``. Comma-separated or a JSON list.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # ---- validation and normalization ---------------------------------------------------
    #: Longest recording accepted, in seconds (a job's ``max_duration_s`` overrides it).
    max_duration_s: float = Field(default=6 * 3600.0, gt=0)
    #: Output format of the normalized audio; 16 kHz mono either way.
    normalized_format: Literal["flac", "wav"] = "flac"
    #: A 100 ms window whose RMS is below this level (dBFS) counts as silence.
    silence_threshold_db: float = Field(default=-45.0, le=0)
    #: A recording at least this silent (share of silent windows) fails with code "silent":
    #: nothing would be transcribed, and the user should learn why at once.
    max_silence_ratio: float = Field(default=0.995, gt=0, le=1)
    #: Seconds between progress events while downloading or decoding.
    progress_interval: float = Field(default=1.0, gt=0)
    #: Where temporary files (the encoded output before it is stored) go; None: system tmp.
    tmp_dir: str | None = None

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [v.strip() for v in text.split(",") if v.strip()]
        return value
