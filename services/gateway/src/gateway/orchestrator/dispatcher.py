"""The dispatcher: publishes a stage job only when a worker can start it.

Every gateway runs one. Per stage it compares jobs in flight with the consumers on the
stage queue plus a small slack, claims the next pending dispatches in the fair order under a
per-stage advisory lock (``FOR UPDATE SKIP LOCKED`` besides), commits, then publishes. A
crash between commit and publish leaves a dispatched job nobody received: the sweeper
publishes it again under a new dispatch id.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import structlog
from shared.messages import Stage

from gateway import metrics
from gateway.broker import BrokerUnavailable
from gateway.orchestrator.core import Orchestrator
from gateway.orchestrator.jobs import MissingInput, build_job
from gateway.orchestrator.state import ORDER
from gateway.repository import dispatches, meetings

log = structlog.get_logger("gateway.dispatcher")


class Dispatcher:
    """Moves pending dispatches to the broker as capacity frees up."""

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        self.wake = asyncio.Event()
        #: Consumers per stage queue as last seen (empty while the broker is down).
        self.consumers: dict[str, int] = {}

    async def run(self) -> None:
        """Dispatch on every wake-up (NOTIFY of new work) and at a steady interval."""
        interval = self.orch.settings.dispatch_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=interval)
            self.wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("dispatch_failed")
                await asyncio.sleep(interval)

    async def tick(self) -> int:
        """One pass over all stages; returns how many jobs were published."""
        broker = self.orch.broker
        if not broker.available:
            self.consumers = {}
            return 0
        published = 0
        for stage in ORDER:
            try:
                consumers, _ = await broker.queue_counts(stage, max_age_s=0.5)
            except BrokerUnavailable:
                return published
            self.consumers[stage.value] = consumers
            metrics.CONSUMERS.labels(stage.value).set(consumers)
            capacity = consumers + self.orch.settings.dispatch_slack
            claimed = await self._claim(stage, capacity)
            # Publish concurrently: the broker's confirms of several jobs overlap.
            published += sum(await asyncio.gather(*(self._publish(d) for d in claimed)))
        return published

    async def _claim(self, stage: Stage, capacity: int) -> list[dict[str, Any]]:
        claimed: list[dict[str, Any]] = []
        async with self.orch.pool.acquire() as conn, conn.transaction():
            if not await dispatches.try_stage_lock(conn, stage.value):
                return claimed
            free = capacity - await dispatches.inflight_count(conn, stage.value)
            while free > 0:
                d = await dispatches.claim_next(conn, stage.value)
                if d is None:
                    break
                claimed.append(d)
                free -= 1
        return claimed

    async def _publish(self, d: dict[str, Any]) -> int:
        """Publish a claimed dispatch; hands it back to the backlog if the broker fails."""
        orch = self.orch
        async with orch.pool.acquire() as conn:
            m = await meetings.get(conn, d["meeting_id"])
        if m is None:
            return 0
        try:
            job = build_job(m, d, orch.settings.stage_deadline_s)
        except MissingInput as e:
            await self._fail_missing(d, str(e))
            return 0
        try:
            await orch.broker.publish_job(job, d["stage"])
        except Exception as e:
            log.warning("publish_failed_requeued", dispatch_id=str(d["id"]), error=str(e))
            async with orch.pool.acquire() as conn:
                await dispatches.update(
                    conn, d["id"], expect=("dispatched",), state="pending", dispatched_at=None
                )
            return 0
        waited = datetime.now(UTC) - max(d["created_at"], d["not_before"])
        metrics.QUEUE_WAIT.labels(d["stage"]).observe(max(0.0, waited.total_seconds()))
        log.info(
            "job_dispatched",
            meeting_id=str(m["id"]),
            stage=d["stage"],
            dispatch_id=str(d["id"]),
            attempt=d["attempt"],
        )
        return 1

    async def _fail_missing(self, d: dict[str, Any], reason: str) -> None:
        async with self.orch.pool.acquire() as conn, conn.transaction():
            m = await meetings.lock(conn, d["meeting_id"])
            await dispatches.update(conn, d["id"], state="failed", error=reason)
            if m is not None and m["current_dispatch_id"] == d["id"]:
                await self.orch.finish(
                    conn, m, "failed", stage=d["stage"], code="missing_input", reason=reason
                )
