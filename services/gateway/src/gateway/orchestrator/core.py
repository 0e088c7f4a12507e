"""Orchestrator operations that change a meeting: submit, record events, queue stages,
finish, and the user actions (cancel, retry, re-run, rename speakers, priority, delete).

Every change happens in one transaction that also appends the meeting-visible event to the
log (which NOTIFYs every gateway); broker messages are published only after commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import structlog
from shared.messages import CancelRequested, Stage
from shared.storage import BlobStore

from gateway import metrics
from gateway.broker import Broker, BrokerUnavailable
from gateway.db import Conn, Pool
from gateway.errors import Conflict, NotFound
from gateway.orchestrator.queue import DEFAULT_ENGINE
from gateway.orchestrator.state import ACTIVE, FINAL, rerun_allowed, status_waiting_for
from gateway.repository import dispatches, events, meetings
from gateway.repository._util import NOW
from gateway.settings import Settings

log = structlog.get_logger("gateway.orchestrator")
RecordHook = Callable[[Conn, dict[str, Any], dict[str, Any]], Awaitable[None]]


class Orchestrator:
    """State changes of meetings, shared by the API, the event consumer and the sweeper."""

    def __init__(self, pool: Pool, settings: Settings, store: BlobStore, broker: Broker) -> None:
        self.pool = pool
        self.settings = settings
        self.store = store
        self.broker = broker
        #: Called inside the transaction for every persisted event (webhook outbox).
        self.record_hooks: list[RecordHook] = []

    # ---- building blocks (inside a transaction) -------------------------------------------

    async def record(
        self,
        conn: Conn,
        meeting: dict[str, Any],
        type: str,
        *,
        status: str,
        stage: str | None = None,
        dispatch_id: UUID | None = None,
        data: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
        event_id: UUID | None = None,
    ) -> dict[str, Any]:
        """Append an event to the meeting's log (and NOTIFY it)."""
        event = await events.append(
            conn,
            meeting_id=meeting["id"],
            tenant_id=meeting["tenant_id"],
            event_id=event_id or uuid4(),
            type=type,
            stage=stage,
            dispatch_id=dispatch_id,
            status=status,
            payload=data or {},
            occurred_at=occurred_at or datetime.now(UTC),
        )
        lag = (event["persisted_at"] - event["occurred_at"]).total_seconds()
        metrics.EVENT_LAG.labels("persisted").observe(max(0.0, lag))
        message = events.to_message(event)
        for hook in self.record_hooks:
            await hook(conn, meeting, message)
        return event

    async def enqueue_stage(
        self,
        conn: Conn,
        meeting: dict[str, Any],
        stage: Stage,
        *,
        attempt: int = 1,
        delay_s: float = 0.0,
        status: str | None = None,
    ) -> UUID:
        """Put a stage of the meeting in the backlog and make it the current dispatch."""
        engine = (meeting["options"] or {}).get(f"{stage.value}_engine") or DEFAULT_ENGINE[stage]
        did = await dispatches.insert(
            conn,
            meeting_id=meeting["id"],
            tenant_id=meeting["tenant_id"],
            stage=stage.value,
            attempt=attempt,
            priority=meeting["priority"],
            engine=engine,
            delay_s=delay_s,
        )
        status = status or status_waiting_for(stage)
        await meetings.update(
            conn,
            meeting["id"],
            status=status,
            stage=stage.value,
            progress=0.0,
            current_dispatch_id=did,
        )
        meeting.update(status=status, stage=stage.value, progress=0.0, current_dispatch_id=did)
        await self.record(
            conn,
            meeting,
            "stage.queued",
            status=status,
            stage=stage.value,
            dispatch_id=did,
            data={"attempt": attempt, "delay_s": round(delay_s, 3), "engine": engine},
        )
        await events.notify_work(conn)
        return did

    async def finish(
        self,
        conn: Conn,
        meeting: dict[str, Any],
        outcome: str,
        *,
        stage: str | None = None,
        code: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """End a meeting (completed, failed or cancelled) unless it already ended."""
        fields: dict[str, Any] = {"status": outcome, "finished_at": NOW}
        if outcome == "failed":
            fields.update(error_stage=stage, error_code=code, error_reason=reason)
        if outcome == "completed":
            fields["progress"] = 100.0
        if not await meetings.update(conn, meeting["id"], expect=tuple(ACTIVE), **fields):
            return False
        await dispatches.cancel_open(conn, meeting["id"], "cancelled")
        # The meeting's dispatch left 'dispatched': a worker slot is free for the backlog.
        await events.notify_work(conn)
        meeting["status"] = outcome
        data = {"stage": stage, "code": code, "reason": reason} if outcome == "failed" else {}
        await self.record(
            conn, meeting, f"meeting.{outcome}", status=outcome, stage=stage, data=data
        )
        metrics.FINISHED.labels(outcome).inc()
        log.info("meeting_finished", meeting_id=str(meeting["id"]), outcome=outcome, reason=reason)
        return True

    async def _locked(self, conn: Conn, tenant_id: UUID | None, meeting_id: UUID) -> dict[str, Any]:
        m = await meetings.lock(conn, meeting_id)
        if m is None or (tenant_id is not None and m["tenant_id"] != tenant_id):
            raise NotFound(f"no meeting {meeting_id}")
        return m

    # ---- submission -------------------------------------------------------------------------

    async def submit(self, **fields: Any) -> dict[str, Any]:
        """Create a meeting and queue its first stage (ingest)."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await meetings.insert(conn, status="queued", stage="ingest", **fields)
            await self.record(
                conn,
                m,
                "meeting.created",
                status="queued",
                data={"title": m["title"], "source": m["source_kind"]},
            )
            await self.enqueue_stage(conn, m, Stage.INGEST)
        metrics.SUBMITTED.labels(m["source_kind"]).inc()
        log.info("meeting_submitted", meeting_id=str(m["id"]), source=m["source_kind"])
        return m

    async def predict(self, meeting_id: UUID, eta_s: float) -> None:
        """Remember the ETA promised at submission (its error is measured at completion)."""
        async with self.pool.acquire() as conn:
            await meetings.update(
                conn, meeting_id, predicted_finish_at=datetime.now(UTC) + timedelta(seconds=eta_s)
            )

    # ---- user actions -----------------------------------------------------------------------

    async def cancel(self, tenant_id: UUID, meeting_id: UUID) -> dict[str, Any]:
        """Cancel at once; a running stage also gets a control message to abort."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await self._locked(conn, tenant_id, meeting_id)
            if m["status"] in FINAL:
                raise Conflict(f"the meeting is already {m['status']}", code="already_finished")
            current = (
                await dispatches.get(conn, m["current_dispatch_id"])
                if m["current_dispatch_id"]
                else None
            )
            await self.finish(conn, m, "cancelled", stage=m["stage"])
        if current is not None and current["state"] == "dispatched":
            await self._send_cancel(meeting_id, current["id"])
        return m

    async def _send_cancel(self, meeting_id: UUID, dispatch_id: UUID) -> None:
        try:
            await self.broker.publish_control(
                CancelRequested(job_id=meeting_id, dispatch_id=dispatch_id)
            )
        except (BrokerUnavailable, Exception) as e:
            log.warning("cancel_not_sent", meeting_id=str(meeting_id), error=str(e))

    async def retry(self, tenant_id: UUID, meeting_id: UUID) -> dict[str, Any]:
        """Queue a failed meeting again from the stage it failed in."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await self._locked(conn, tenant_id, meeting_id)
            if m["status"] != "failed":
                raise Conflict(
                    f"only failed meetings can be retried; this one is {m['status']}",
                    code="not_failed",
                )
            stage = Stage(m["error_stage"] or m["stage"] or "ingest")
            await meetings.update(
                conn,
                m["id"],
                expect=("failed",),
                status=status_waiting_for(stage),
                error_stage=None,
                error_code=None,
                error_reason=None,
                finished_at=None,
            )
            m.update(error_stage=None, error_code=None, error_reason=None, finished_at=None)
            await self.enqueue_stage(conn, m, stage)
        return m

    async def rerun(
        self, tenant_id: UUID, meeting_id: UUID, stage: Stage, overrides: dict[str, Any]
    ) -> dict[str, Any]:
        """Run one stage again (and the ones after it), keeping earlier artifacts."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await self._locked(conn, tenant_id, meeting_id)
            if not rerun_allowed(m["status"]):
                raise Conflict(
                    f"a stage can be re-run only on a completed or failed meeting; "
                    f"this one is {m['status']}",
                    code="not_finished",
                )
            needs = {
                Stage.TRANSCRIBE: m["audio_key"],
                Stage.SUMMARIZE: m["artifacts"].get("transcript_key"),
            }
            if stage not in needs or not needs[stage]:
                raise Conflict(
                    f"cannot re-run {stage.value}: the earlier stages have not produced its input",
                    code="missing_input",
                )
            options = {**m["options"], **{k: v for k, v in overrides.items() if v is not None}}
            await meetings.update(
                conn,
                m["id"],
                expect=("completed", "failed"),
                status=status_waiting_for(stage),
                options=options,
                error_stage=None,
                error_code=None,
                error_reason=None,
                finished_at=None,
            )
            m.update(options=options, error_stage=None, error_reason=None, finished_at=None)
            await self.enqueue_stage(conn, m, stage)
        return m

    async def rename_speakers(
        self, tenant_id: UUID, meeting_id: UUID, names: dict[str, str]
    ) -> dict[str, Any]:
        """Store display names for speaker labels (exports apply them; no engine re-runs)."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await self._locked(conn, tenant_id, meeting_id)
            merged = {**m["speaker_names"], **names}
            merged = {k: v for k, v in merged.items() if v}
            await meetings.update(conn, m["id"], speaker_names=merged)
            m["speaker_names"] = merged
            await self.record(
                conn, m, "speakers.renamed", status=m["status"], data={"speakers": merged}
            )
        return m

    async def set_priority(self, meeting_id: UUID, priority: int) -> dict[str, Any]:
        """Change a meeting's priority, including its waiting dispatches (admin)."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await self._locked(conn, None, meeting_id)
            await meetings.update(conn, m["id"], priority=priority)
            await dispatches.set_pending_priority(conn, m["id"], priority)
            m["priority"] = priority
        return m

    async def delete(self, tenant_id: UUID, meeting_id: UUID) -> None:
        """Delete a meeting with its rows and blobs (a running stage is cancelled first)."""
        async with self.pool.acquire() as conn, conn.transaction():
            m = await self._locked(conn, tenant_id, meeting_id)
            current = (
                await dispatches.get(conn, m["current_dispatch_id"])
                if m["current_dispatch_id"]
                else None
            )
            await meetings.delete(conn, m["id"])
        if current is not None and current["state"] == "dispatched":
            await self._send_cancel(meeting_id, current["id"])
        removed = await self.store.delete_prefix(f"meetings/{meeting_id}")
        log.info("meeting_deleted", meeting_id=str(meeting_id), blobs=removed)
