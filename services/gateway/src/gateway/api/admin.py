"""Admin: meeting priority, dead letters (list, re-queue)."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.api.models import PriorityRequest
from gateway.api.views import meeting_view, queue_snapshot
from gateway.deps import AdminCaller, AppDeps
from gateway.orchestrator.requeue import requeue_dead_letter
from gateway.repository import deadletters

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.patch("/meetings/{meeting_id}/priority", summary="Change a meeting's priority")
async def set_priority(
    *,
    meeting_id: UUID,
    body: PriorityRequest,
    who: AdminCaller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Higher goes first; waiting dispatches are re-ordered at once."""
    m = await deps.orch.set_priority(meeting_id, body.priority)
    async with deps.pool.acquire() as conn:
        snap = await queue_snapshot(deps, conn, [m])
    return meeting_view(m, snap)


def _dead_letter_view(dl: dict[str, Any]) -> dict[str, Any]:
    body = bytes(dl["body"])
    try:
        text: str | None = body.decode()
    except UnicodeDecodeError:
        text = None
    return {
        "id": str(dl["id"]),
        "meeting_id": str(dl["meeting_id"]) if dl["meeting_id"] else None,
        "dispatch_id": str(dl["dispatch_id"]) if dl["dispatch_id"] else None,
        "stage": dl["stage"],
        "routing_key": dl["routing_key"],
        "exchange": dl["exchange"],
        "reason": dl["reason"],
        "headers": dl["headers"],
        "body": text,
        "body_base64": None if text is not None else base64.b64encode(body).decode(),
        "received_at": dl["received_at"].isoformat(),
        "requeued_at": dl["requeued_at"].isoformat() if dl["requeued_at"] else None,
    }


@router.get("/dead-letters", summary="Messages the broker dead-lettered")
async def list_dead_letters(
    *,
    limit: int = Query(default=100, ge=1, le=1000),
    who: AdminCaller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Newest first, with x-death headers and the original body."""
    async with deps.pool.acquire() as conn:
        found = await deadletters.list_all(conn, limit)
    return {"items": [_dead_letter_view(d) for d in found]}


@router.post("/dead-letters/{dl_id}/requeue", summary="Publish a dead letter again")
async def requeue(*, dl_id: UUID, who: AdminCaller, deps: AppDeps) -> dict[str, Any]:
    """Re-publish the original job; reopens the meeting it had failed."""
    return await requeue_dead_letter(deps.orch, dl_id)
