"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Connection and runtime settings common to all services.

    Subclasses set ``model_config = SettingsConfigDict(env_prefix="SERVICE_")``;
    ``MINUTA_``-prefixed variables are not read, so each service is configured alone.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    #: Prefix of every exchange and queue name; tests use a unique one per test.
    namespace: str = "minuta"
    blob_root: Path = Path("var/blobs")
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON when stderr is not a terminal
    metrics_port: int = Field(default=0, description="0 disables the /metrics server")
    metrics_host: str = "127.0.0.1"
    #: Quorum queue delivery limit: a message redelivered more often is dead-lettered.
    delivery_limit: int = 5
    #: Seconds a stopping worker lets its in-flight message finish before handing it back.
    shutdown_grace: float = 30.0
    #: Seconds between heartbeats a worker emits while a stage runs.
    heartbeat_interval: float = 5.0
