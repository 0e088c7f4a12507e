"""Retention sweep: deletes what configured periods allow, logs every deletion, and never
touches a meeting in progress."""

from __future__ import annotations

import asyncio

import structlog
from shared.storage import BlobStore

from gateway.db import Pool
from gateway.repository import retention as repo
from gateway.settings import Settings

log = structlog.get_logger("gateway.retention")
_BATCH = 200


class Retention:
    """Periodic deletion of old originals, old meetings, and old failed-attempt details."""

    def __init__(self, pool: Pool, settings: Settings, store: BlobStore) -> None:
        self.pool = pool
        self.settings = settings
        self.store = store

    async def run(self) -> None:
        """Sweep every ``retention_interval_s``."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention_failed")
            await asyncio.sleep(self.settings.retention_interval_s)

    async def sweep(self) -> dict[str, int]:
        """One pass; returns counts of what went."""
        s = self.settings
        done = {"originals": 0, "meetings": 0, "attempts": 0}
        if s.retention_original_days > 0:
            async with self.pool.acquire() as conn:
                for m in await repo.originals_older_than(conn, s.retention_original_days, _BATCH):
                    await self.store.delete(m["source"])
                    await repo.mark_original_deleted(conn, m["id"])
                    log.info("retention_original_deleted", meeting_id=str(m["id"]))
                    done["originals"] += 1
        if s.retention_meeting_days > 0:
            async with self.pool.acquire() as conn:
                for mid in await repo.meetings_older_than(conn, s.retention_meeting_days, _BATCH):
                    await repo.delete_meeting(conn, mid)
                    await self.store.delete_prefix(f"meetings/{mid}")
                    log.info("retention_meeting_deleted", meeting_id=str(mid))
                    done["meetings"] += 1
        if s.retention_attempts_days > 0:
            async with self.pool.acquire() as conn:
                done["attempts"] = await repo.purge_attempt_details(conn, s.retention_attempts_days)
            if done["attempts"]:
                log.info("retention_attempts_deleted", count=done["attempts"])
        return done
