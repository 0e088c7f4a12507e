"""A tenant's webhook secret is stored encrypted; one written in clear by an older gateway
still signs and is encrypted the first time it is read."""

from __future__ import annotations

import asyncpg
import pytest
from gateway.repository import accounts
from gateway.secretbox import SecretBox, is_sealed

pytestmark = pytest.mark.integration


async def test_secrets_are_sealed_and_legacy_ones_resealed(clean_db: str) -> None:
    box = SecretBox("integration-test-key-" * 2)
    conn = await asyncpg.connect(clean_db)
    try:
        tid = await accounts.ensure_tenant(conn, "acme")
        await accounts.set_webhook_secret(conn, tid, "whsec_new", box)
        stored = await conn.fetchval("SELECT webhook_secret FROM tenants WHERE id = $1", tid)
        assert is_sealed(stored)
        assert "whsec_new" not in stored
        assert await accounts.webhook_secret(conn, tid, box) == "whsec_new"

        await conn.execute("UPDATE tenants SET webhook_secret = 'whsec_old' WHERE id = $1", tid)
        assert await accounts.webhook_secret(conn, tid, box) == "whsec_old"
        stored = await conn.fetchval("SELECT webhook_secret FROM tenants WHERE id = $1", tid)
        assert is_sealed(stored)
        assert "whsec_old" not in stored
        assert await accounts.webhook_secret(conn, tid, box) == "whsec_old"
    finally:
        await conn.close()
