"""Transcriber settings (env prefix ``TRANSCRIBER_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from shared.settings import CommonSettings

from transcriber.provision import default_models_dir


class Settings(CommonSettings):
    """Everything the transcriber reads from the environment."""

    model_config = SettingsConfigDict(env_prefix="TRANSCRIBER_", env_file=".env", extra="ignore")

    #: Engine used when a job names none: whisper | speechmatics | openai | noop.
    engine: str = "whisper"

    # -- whisper (faster-whisper) ---------------------------------------------------------
    #: A provisioned name (base, tiny.en) or a directory holding a CTranslate2 model.
    whisper_model: str = "base"
    models_dir: Path = Field(default_factory=default_models_dir)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "int8"
    beam_size: int = Field(default=5, ge=1)
    vad: bool = True
    #: 0 lets CTranslate2 use every core.
    cpu_threads: int = Field(default=0, ge=0)
    #: Let faster-whisper fetch an unknown model name from its hub (never on offline installs).
    allow_download: bool = False

    # -- speechmatics ---------------------------------------------------------------------
    speechmatics_url: str = "https://asr.api.speechmatics.com/v2"
    speechmatics_api_key: SecretStr = SecretStr("")
    #: Ceiling of the status-poll backoff, seconds.
    speechmatics_poll_max_s: float = Field(default=10.0, gt=0)
    speechmatics_poll_min_s: float = Field(default=0.5, gt=0)

    # -- openai-compatible ----------------------------------------------------------------
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr = SecretStr("")
    openai_model: str = "whisper-1"
    openai_timeout_s: float = Field(default=600.0, gt=0)

    # -- cloud calls ----------------------------------------------------------------------
    #: Attempts at one HTTP call that fails transiently (429, 5xx, network) before giving up.
    http_attempts: int = Field(default=4, ge=1)
    #: Longest wait between those attempts, seconds (a longer Retry-After ends the job instead).
    http_backoff_max_s: float = Field(default=30.0, ge=0)

    # -- long audio -----------------------------------------------------------------------
    #: Longest chunk one engine call sees, seconds; longer audio is cut at silences.
    chunk_max_s: float = Field(default=600.0, gt=0)
    #: How far back from the chunk limit the quietest cut point is searched, seconds.
    chunk_search_s: float = Field(default=60.0, gt=0)

    # -- speakers -------------------------------------------------------------------------
    #: auto: run local diarization when the engine gives no speakers and it is installed.
    diarize: Literal["auto", "off"] = "auto"
