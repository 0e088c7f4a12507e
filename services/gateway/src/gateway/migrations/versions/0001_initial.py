"""Initial schema: tenants, keys, meetings, dispatches, events, webhooks, dead letters.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    webhook_secret text,
    last_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    prefix text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    admin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TABLE ws_tickets (
    ticket_hash text PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);

CREATE TABLE meetings (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    title text NOT NULL DEFAULT '',
    status text NOT NULL CHECK (status IN ('queued', 'ingesting', 'transcribing',
        'summarizing', 'completed', 'failed', 'cancelled')),
    stage text CHECK (stage IN ('ingest', 'transcribe', 'summarize')),
    progress real NOT NULL DEFAULT 0,
    options jsonb NOT NULL DEFAULT '{}',
    priority integer NOT NULL DEFAULT 0,
    source_kind text NOT NULL CHECK (source_kind IN ('upload', 'url')),
    source text NOT NULL,
    source_size bigint,
    audio_key text,
    duration_s double precision,
    artifacts jsonb NOT NULL DEFAULT '{}',
    error_stage text,
    error_code text,
    error_reason text,
    speaker_names jsonb NOT NULL DEFAULT '{}',
    idempotency_key text,
    current_dispatch_id uuid,
    predicted_finish_at timestamptz,
    last_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX meetings_tenant_created ON meetings (tenant_id, created_at DESC, id DESC);
CREATE INDEX meetings_finished ON meetings (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE dispatches (
    id uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    stage text NOT NULL CHECK (stage IN ('ingest', 'transcribe', 'summarize')),
    attempt integer NOT NULL DEFAULT 1,
    state text NOT NULL CHECK (state IN ('pending', 'dispatched', 'done', 'failed',
        'cancelled', 'superseded')),
    priority integer NOT NULL DEFAULT 0,
    engine text,
    not_before timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz,
    started_at timestamptz,
    heartbeat_at timestamptz,
    finished_at timestamptz,
    error text
);
CREATE INDEX dispatches_pending ON dispatches (stage, priority DESC, created_at)
    WHERE state = 'pending';
CREATE INDEX dispatches_inflight ON dispatches (stage, tenant_id) WHERE state = 'dispatched';
CREATE INDEX dispatches_meeting ON dispatches (meeting_id, created_at);

CREATE TABLE events (
    id bigserial PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    seq bigint NOT NULL,
    tenant_seq bigint NOT NULL,
    event_id uuid NOT NULL UNIQUE,
    type text NOT NULL,
    stage text,
    dispatch_id uuid,
    status text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL,
    persisted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (meeting_id, seq),
    UNIQUE (tenant_id, tenant_seq)
);

CREATE TABLE engine_stats (
    stage text NOT NULL,
    engine text NOT NULL,
    realtime_factor double precision NOT NULL,
    samples integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stage, engine)
);

CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url text NOT NULL,
    event_types text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    meeting_id uuid,
    webhook_id uuid,
    url text NOT NULL,
    event_type text NOT NULL,
    body text NOT NULL,
    state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at DESC);

CREATE TABLE dead_letters (
    id uuid PRIMARY KEY,
    meeting_id uuid,
    dispatch_id uuid,
    stage text,
    routing_key text NOT NULL,
    exchange text NOT NULL DEFAULT '',
    body bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    reason text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now(),
    requeued_at timestamptz
);
"""

DOWNGRADE = """
DROP TABLE dead_letters, webhook_deliveries, webhooks, engine_stats, events, dispatches,
    meetings, ws_tickets, api_keys, tenants;
"""


def _statements(sql: str) -> list[str]:
    # asyncpg prepares each statement: one command per execute.
    return [part.strip() for part in sql.split(";") if part.strip()]


def upgrade() -> None:
    for statement in _statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(DOWNGRADE):
        op.execute(statement)
