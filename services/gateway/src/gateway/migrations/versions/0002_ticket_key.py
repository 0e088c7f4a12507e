"""WebSocket tickets remember the API key that issued them (a revoked key's tickets die).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Tickets live a minute: the ones issued before this revision (no key to check) are dropped.
UPGRADE = """
DELETE FROM ws_tickets;
ALTER TABLE ws_tickets
    ADD COLUMN key_id uuid NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE
"""

DOWNGRADE = "ALTER TABLE ws_tickets DROP COLUMN key_id"


def _statements(sql: str) -> list[str]:
    # asyncpg prepares each statement: one command per execute.
    return [part.strip() for part in sql.split(";") if part.strip()]


def upgrade() -> None:
    for statement in _statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(DOWNGRADE):
        op.execute(statement)
