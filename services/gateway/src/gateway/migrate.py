"""Apply the schema migrations (``python -m gateway migrate`` and at gateway start)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config

log = structlog.get_logger("gateway.migrate")
# Alembic's ``context`` is process-global: one migration at a time per process. Processes
# (several gateways starting together) are serialised by the advisory lock in env.py.
_ONE_AT_A_TIME = threading.Lock()


def _config(dsn: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["dsn"] = dsn
    return cfg


def migrate_sync(dsn: str) -> None:
    """Upgrade the database to the newest revision (blocking; runs its own event loop)."""
    with _ONE_AT_A_TIME:
        command.upgrade(_config(dsn), "head")


async def migrate(dsn: str) -> None:
    """Upgrade from async code: Alembic runs in a thread with its own event loop."""
    await asyncio.to_thread(migrate_sync, dsn)
    log.info("migrations_applied")
