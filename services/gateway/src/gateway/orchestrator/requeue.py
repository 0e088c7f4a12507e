"""Re-queueing a dead-lettered job: publish its original body again and, if it is what
failed the meeting, reopen the meeting at that stage so the job's events count again."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog
from shared.messages import Stage

from gateway.errors import Conflict, NotFound
from gateway.orchestrator.core import Orchestrator
from gateway.orchestrator.state import status_running
from gateway.repository import deadletters, dispatches, meetings

log = structlog.get_logger("gateway.requeue")


async def requeue_dead_letter(orch: Orchestrator, dl_id: UUID) -> dict[str, Any]:
    """Publish a dead letter's body to the jobs exchange; returns what was done."""
    reopened = False
    async with orch.pool.acquire() as conn, conn.transaction():
        dl = await deadletters.get(conn, dl_id)
        if dl is None:
            raise NotFound(f"no dead letter {dl_id}")
        if dl["stage"] is None or dl["dispatch_id"] is None:
            raise Conflict(
                "this message is not a stage job; it cannot be re-queued", code="not_a_job"
            )
        m = await meetings.lock(conn, dl["meeting_id"]) if dl["meeting_id"] else None
        if (
            m is not None
            and m["status"] == "failed"
            and m["error_code"] == "dead_lettered"
            and m["current_dispatch_id"] == dl["dispatch_id"]
        ):
            await dispatches.update(
                conn,
                dl["dispatch_id"],
                state="dispatched",
                finished_at=None,
                started_at=None,
                error=None,
            )
            status = status_running(Stage(dl["stage"]))
            await meetings.update(
                conn,
                m["id"],
                expect=("failed",),
                status=status,
                error_stage=None,
                error_code=None,
                error_reason=None,
                finished_at=None,
            )
            m["status"] = status
            await orch.record(
                conn,
                m,
                "stage.requeued",
                status=status,
                stage=dl["stage"],
                dispatch_id=dl["dispatch_id"],
            )
            reopened = True
        await deadletters.mark_requeued(conn, dl_id)
        await orch.broker.publish_raw(
            bytes(dl["body"]), dl["stage"], {"x-requeued-from": str(dl_id)}
        )
    log.info("dead_letter_requeued", dead_letter_id=str(dl_id), reopened=reopened)
    return {"id": str(dl_id), "requeued": True, "meeting_reopened": reopened}
