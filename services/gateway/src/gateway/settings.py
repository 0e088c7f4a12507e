"""Gateway settings (``GATEWAY_`` prefix); built once by ``__main__`` or by tests."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from shared.settings import CommonSettings


class Settings(CommonSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_file=".env", extra="ignore")

    database_url: str = "postgresql://postgres@127.0.0.1:5432/minuta"
    db_pool_min: int = 1
    db_pool_max: int = 10
    migrate_on_start: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    #: Largest upload accepted; enforced while streaming (413 past it).
    max_upload_bytes: int = 2 * 1024**3
    #: An upload with no bytes for this long is cut off (408 ``upload_too_slow``).
    upload_idle_timeout_s: float = 30.0
    #: After ``upload_rate_grace_s``, an upload slower than this on average is cut off
    #: (408); 0 turns the rate floor off.
    upload_min_bytes_per_s: float = 1024.0
    upload_rate_grace_s: float = 10.0
    #: Longest a running stage may take before it is re-dispatched or failed.
    stage_deadline_s: float = 7200.0
    #: A running stage with no event for this long is considered lost.
    heartbeat_timeout_s: float = 60.0
    #: A dispatched job with no ``stage.started`` for this long, while its queue is empty,
    #: was lost between commit and publish: it is published again under a new dispatch id.
    unstarted_timeout_s: float = 30.0
    max_attempts: int = 3
    backoff_base_s: float = 5.0
    backoff_max_s: float = 900.0
    #: Jobs dispatched per stage beyond the number of consumers (keeps workers busy).
    dispatch_slack: int = 1
    dispatch_interval_s: float = 1.0
    sweep_interval_s: float = 5.0
    broker_retry_s: float = 3.0
    events_prefetch: int = 20
    #: Submissions per API key: sustained rate per minute and burst size.
    rate_limit_per_minute: float = 60.0
    rate_limit_burst: int = 20
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8000", "http://127.0.0.1:8000"]
    )
    #: Hosts/addresses/networks user URLs may reach although private (e.g. 127.0.0.1 in tests).
    url_allow: list[str] = Field(default_factory=list)
    ws_queue_size: int = 1000
    ws_ping_s: float = 20.0
    ws_ticket_ttl_s: float = 60.0
    #: Open feeds re-check their API key this often; a revoked key closes them (1008).
    ws_key_check_s: float = 3.0
    #: A feed client whose unsent live events exceed this many bytes is dropped (1013).
    ws_max_pending_bytes: int = 6 * 1024**2
    #: Longest one WebSocket send may block on a client that does not read.
    ws_send_timeout_s: float = 10.0
    #: Audio length assumed for ETA before ingest measured it.
    default_audio_seconds: float = 600.0
    webhook_timeout_s: float = 10.0
    #: Encrypts webhook signing secrets at rest (any random string of 32+ characters, the
    #: same on every gateway). Unset: a development key, with a warning at start.
    secret_key: SecretStr | None = None
    #: Seconds to wait before each retry of a failed webhook delivery.
    webhook_schedule_s: list[float] = Field(
        default_factory=lambda: [10.0, 60.0, 300.0, 1800.0, 7200.0]
    )
    webhook_interval_s: float = 1.0
    #: Retention (days; 0 keeps forever): original uploads, whole finished meetings,
    #: details of failed/superseded attempts.
    retention_original_days: float = 30.0
    retention_meeting_days: float = 0.0
    retention_attempts_days: float = 30.0
    retention_interval_s: float = 3600.0
