"""The sweeper: recovers work the pipeline lost.

- A job dispatched but never started while its queue holds nothing ready was lost between
  commit and publish (a gateway crash) or with the broker: it is published again under a
  new dispatch id, the old one superseded (its late events are then ignored).
- A running stage that went silent (no event for ``heartbeat_timeout_s``) or ran past its
  deadline is re-dispatched with backoff, up to ``max_attempts``, then the meeting fails
  with a reason a person can act on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from shared.messages import Stage

from gateway.broker import BrokerUnavailable
from gateway.orchestrator.core import Orchestrator
from gateway.orchestrator.jobs import MissingInput, build_job
from gateway.orchestrator.state import ORDER, backoff_s
from gateway.repository import dispatches, meetings
from gateway.repository._util import NOW

log = structlog.get_logger("gateway.sweeper")


class Sweeper:
    """Periodic recovery of lost, silent and overdue dispatches."""

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch

    async def run(self) -> None:
        """Sweep every ``sweep_interval_s``."""
        while True:
            await asyncio.sleep(self.orch.settings.sweep_interval_s)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep_failed")

    async def sweep(self) -> None:
        """One pass: lost publishes first, then silent or overdue stages."""
        await self.republish_lost()
        await self.expire_silent()

    async def republish_lost(self) -> int:
        """Publish again dispatched jobs that no worker started while their queue is empty."""
        orch = self.orch
        if not orch.broker.available:
            return 0
        count = 0
        for stage in ORDER:
            try:
                _, ready = await orch.broker.queue_counts(stage, max_age_s=0)
            except BrokerUnavailable:
                return count
            if ready > 0:
                continue  # jobs are still waiting in the queue: nothing is known lost
            async with orch.pool.acquire() as conn:
                lost = await dispatches.unstarted(
                    conn, stage.value, orch.settings.unstarted_timeout_s
                )
            for d in lost:
                count += await self._supersede(d)
        return count

    async def _supersede(self, d: dict[str, Any]) -> int:
        orch = self.orch
        async with orch.pool.acquire() as conn, conn.transaction():
            m = await meetings.lock(conn, d["meeting_id"])
            if m is None or m["current_dispatch_id"] != d["id"]:
                return 0
            if not await dispatches.update(
                conn, d["id"], expect=("dispatched",), state="superseded", finished_at=NOW
            ):
                return 0
            new_id = await dispatches.insert(
                conn,
                meeting_id=m["id"],
                tenant_id=m["tenant_id"],
                stage=d["stage"],
                attempt=d["attempt"],
                priority=m["priority"],
                engine=d["engine"],
                state="dispatched",
            )
            await meetings.update(conn, m["id"], current_dispatch_id=new_id)
            new = await dispatches.get(conn, new_id)
        assert new is not None
        try:
            await orch.broker.publish_job(
                build_job(m, new, orch.settings.stage_deadline_s), d["stage"]
            )
        except (MissingInput, Exception) as e:
            log.warning("republish_failed", dispatch_id=str(new_id), error=str(e))
            return 0
        log.warning(
            "lost_job_republished",
            meeting_id=str(m["id"]),
            stage=d["stage"],
            old_dispatch_id=str(d["id"]),
            dispatch_id=str(new_id),
        )
        return 1

    async def expire_silent(self) -> int:
        """Re-dispatch or fail stages with no heartbeat, or past the stage deadline."""
        s = self.orch.settings
        async with self.orch.pool.acquire() as conn:
            stuck = await dispatches.silent_or_overdue(
                conn, s.heartbeat_timeout_s, s.stage_deadline_s
            )
        for d in stuck:
            if d["overdue"]:
                reason = (
                    f"the {d['stage']} stage ran longer than its deadline of "
                    f"{s.stage_deadline_s:.0f} s"
                )
            else:
                reason = (
                    f"the {d['stage']} worker stopped responding (no heartbeat for "
                    f"{s.heartbeat_timeout_s:.0f} s)"
                )
            await self._retry_or_fail(d, reason)
        return len(stuck)

    async def _retry_or_fail(self, d: dict[str, Any], reason: str) -> None:
        orch, s = self.orch, self.orch.settings
        async with orch.pool.acquire() as conn, conn.transaction():
            m = await meetings.lock(conn, d["meeting_id"])
            if m is None or m["current_dispatch_id"] != d["id"]:
                return
            if not await dispatches.update(
                conn, d["id"], expect=("dispatched",), state="failed", finished_at=NOW, error=reason
            ):
                return
            await orch.record(
                conn,
                m,
                "stage.failed",
                status=m["status"],
                stage=d["stage"],
                dispatch_id=d["id"],
                data={
                    "code": "timeout",
                    "reason": reason,
                    "retryable": True,
                    "attempt": d["attempt"],
                },
            )
            if d["attempt"] < s.max_attempts:
                delay = backoff_s(d["attempt"], s.backoff_base_s, s.backoff_max_s)
                await orch.enqueue_stage(
                    conn,
                    m,
                    Stage(d["stage"]),
                    attempt=d["attempt"] + 1,
                    delay_s=delay,
                    status=m["status"],
                )
            else:
                await orch.finish(
                    conn,
                    m,
                    "failed",
                    stage=d["stage"],
                    code="timeout",
                    reason=f"{reason}; gave up after {d['attempt']} attempts",
                )
        log.warning(
            "stage_timed_out", meeting_id=str(d["meeting_id"]), stage=d["stage"], reason=reason
        )
