"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    #: Where blobs live: "local" (``blob_root``, a directory every service shares) or "s3"
    #: (any S3-compatible store; see ``shared.storage_s3.make_blob_store``).
    blob_backend: Literal["local", "s3"] = "local"
    s3_bucket: str = "minuta"
    #: None talks to AWS; set it for MinIO, Ceph, Garage, ... (e.g. http://minio:9000).
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    #: None falls back to the standard AWS credential chain (env, profile, instance role).
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    #: Prepended to every key, so several deployments can share a bucket.
    s3_prefix: str = ""
    #: Blobs larger than this go up as a multipart upload of parts this size (min 5 MiB).
    s3_part_size: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    #: Create the bucket on first use if it is missing (handy for MinIO in compose).
    s3_create_bucket: bool = False
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
