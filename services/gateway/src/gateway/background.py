"""Periodic collection of backlog gauges from PostgreSQL (every gateway reports the same
numbers; dashboards take the max)."""

from __future__ import annotations

import asyncio

import structlog

from gateway import metrics
from gateway.deps import Deps
from gateway.orchestrator.state import ORDER
from gateway.repository import deadletters, dispatches

log = structlog.get_logger("gateway.collector")


class Collector:
    """Updates the queue gauges every few seconds."""

    def __init__(self, deps: Deps, interval_s: float = 5.0) -> None:
        self.deps = deps
        self.interval_s = interval_s

    async def run(self) -> None:
        """Collect forever."""
        while True:
            try:
                await self.collect()
            except Exception:
                log.exception("metrics_collection_failed")
            await asyncio.sleep(self.interval_s)

    async def collect(self) -> None:
        """One collection."""
        async with self.deps.pool.acquire() as conn:
            stats = {r["stage"]: r for r in await dispatches.stage_stats(conn)}
            metrics.DEAD_LETTERS.set(await deadletters.count_open(conn))
        for stage in ORDER:
            st = stats.get(stage.value, {})
            metrics.BACKLOG_JOBS.labels(stage.value).set(int(st.get("backlog", 0)))
            metrics.BACKLOG_AUDIO.labels(stage.value).set(float(st.get("backlog_audio_s", 0.0)))
            metrics.INFLIGHT.labels(stage.value).set(int(st.get("inflight", 0)))
            metrics.OLDEST_QUEUED.labels(stage.value).set(float(st.get("oldest_age_s", 0.0)))
