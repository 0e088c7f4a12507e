"""Meetings: submit (upload or URL), read, list, cancel, retry, re-run, rename, delete."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from shared.messages import Stage
from shared.netguard import BlockedURL, validate_url_syntax
from shared.storage import meeting_key

from gateway.api.models import RerunRequest, SubmitOptions, UrlSubmission
from gateway.api.upload import receive_upload
from gateway.api.validation import invalid_from
from gateway.api.views import meeting_view, queue_snapshot
from gateway.auth import Principal
from gateway.deps import AppDeps, Caller, Deps
from gateway.errors import Forbidden, Invalid, NotFound, UnsupportedMediaType
from gateway.repository import dispatches, events, meetings

router = APIRouter(prefix="/v1/meetings", tags=["meetings"])
_JSON_LIMIT = 64 * 1024


def check_url(url: str, field: str, allow: list[str]) -> str:
    """SSRF guard on a user URL (syntax and literal addresses; workers resolve again)."""
    try:
        validate_url_syntax(url, allow)
    except BlockedURL as e:
        raise Invalid(f"field '{field}': {e.message}", code="invalid_url") from e
    return url.strip()


async def _json_body(request: Request) -> dict[str, Any]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _JSON_LIMIT:
            raise Invalid("the JSON body is larger than 64 KiB", code="body_too_large")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Invalid(f"malformed JSON: {e}", code="malformed_json") from e
    if not isinstance(data, dict):
        raise Invalid("the JSON body must be an object", code="malformed_json")
    return data


async def _view(deps: Deps, m: dict[str, Any], *, timings: bool = False) -> dict[str, Any]:
    async with deps.pool.acquire() as conn:
        m = await meetings.get(conn, m["id"]) or m  # fresh: events may have moved it on
        snap = await queue_snapshot(deps, conn, [m])
        rows = await dispatches.for_meeting(conn, m["id"]) if timings else None
    return meeting_view(m, snap, rows)


_FORM_FIELDS = {
    name: {"type": "string"}
    for name in SubmitOptions.model_fields
    if name not in ("min_speakers", "max_speakers", "priority")
} | {name: {"type": "integer"} for name in ("min_speakers", "max_speakers", "priority")}
_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}, **_FORM_FIELDS},
                }
            },
            "application/json": {"schema": UrlSubmission.model_json_schema()},
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "Same key, same meeting on retries",
        }
    ],
}


@router.post(
    "",
    status_code=202,
    summary="Submit a recording (multipart upload or JSON URL)",
    openapi_extra=_SUBMIT_BODY,
)
async def submit(*, request: Request, who: Caller, deps: AppDeps) -> JSONResponse:
    """Accept a recording; it waits in the backlog until a worker can take it."""
    deps.limiter.check(who.key_id)
    idem = request.headers.get("idempotency-key")
    if idem:
        async with deps.pool.acquire() as conn:
            existing = await meetings.by_idempotency_key(conn, who.tenant_id, idem[:200])
        if existing is not None:
            return JSONResponse(await _view(deps, existing), status_code=202)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    meeting_id = uuid4()
    if ctype == "multipart/form-data":
        key = meeting_key(meeting_id, "original")
        fields, size = await receive_upload(
            request, deps.store, key, deps.settings.max_upload_bytes
        )
        try:
            opts = _validate(SubmitOptions, {k: v for k, v in fields.items() if v != ""})
        except Invalid:
            await deps.store.delete(key)
            raise
        source_kind, source, source_size = "upload", key, size
    elif ctype == "application/json":
        req = _validate(UrlSubmission, await _json_body(request))
        opts, source_kind, source, source_size = req, "url", "", None
        source = check_url(req.source_url, "source_url", deps.settings.url_allow)
    else:
        raise UnsupportedMediaType(
            "send the recording as multipart/form-data (field 'file') or a JSON body "
            '{"source_url": ...} with Content-Type application/json'
        )
    if opts.priority and not who.admin:
        raise Forbidden("only admin keys may set a priority")
    if opts.webhook_url:
        check_url(opts.webhook_url, "webhook_url", deps.settings.url_allow)
    try:
        m = await deps.orch.submit(
            id=meeting_id,
            tenant_id=who.tenant_id,
            title=opts.title,
            options=opts.stored_options(),
            priority=opts.priority,
            source_kind=source_kind,
            source=source,
            source_size=source_size,
            idempotency_key=idem[:200] if idem else None,
        )
    except asyncpg.UniqueViolationError:
        # A concurrent retry with the same Idempotency-Key won the race.
        if source_kind == "upload":
            await deps.store.delete(source)
        async with deps.pool.acquire() as conn:
            winner = await meetings.by_idempotency_key(conn, who.tenant_id, (idem or "")[:200])
        if winner is None:
            raise
        m = winner
    view = await _view(deps, m)
    if view["eta_seconds"] is not None:
        await deps.orch.predict(m["id"], view["eta_seconds"])
    return JSONResponse(view, status_code=202)


def _validate(model: type[SubmitOptions], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise invalid_from(e) from e


async def owned(deps: Deps, who: Principal, meeting_id: UUID) -> dict[str, Any]:
    """The caller's meeting, or 404 (another tenant's meeting does not exist for them)."""
    async with deps.pool.acquire() as conn:
        m = await meetings.get(conn, meeting_id, who.tenant_id)
    if m is None:
        raise NotFound(f"no meeting {meeting_id}")
    return m


def _cursor(m: dict[str, Any]) -> str:
    raw = f"{m['created_at'].isoformat()}|{m['id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        created, mid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created), UUID(mid)
    except (ValueError, UnicodeDecodeError) as e:
        raise Invalid("field 'cursor': not a cursor returned by this API", code="invalid") from e


@router.get("", summary="List meetings (newest first, cursor pagination)")
async def list_meetings(
    *,
    status: str | None = Query(
        default=None,
        pattern="^(queued|ingesting|transcribing|summarizing|completed|failed|cancelled)$",
    ),
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = None,
    who: Caller,
    deps: AppDeps,
) -> dict[str, Any]:
    """The caller's meetings; pass ``next_cursor`` back as ``cursor`` for the next page."""
    before = _parse_cursor(cursor) if cursor else None
    async with deps.pool.acquire() as conn:
        found = await meetings.list_for_tenant(
            conn, who.tenant_id, status=status, limit=limit + 1, before=before
        )
        snap = await queue_snapshot(deps, conn, found[:limit])
    page = found[:limit]
    return {
        "items": [meeting_view(m, snap) for m in page],
        "next_cursor": _cursor(page[-1]) if len(found) > limit else None,
    }


@router.get("/{meeting_id}", summary="One meeting: status, position, ETA, stage timings")
async def get_meeting(*, meeting_id: UUID, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """Status, stage, progress, queue position, ETA, per-stage timings, error."""
    return await _view(deps, await owned(deps, who, meeting_id), timings=True)


@router.post("/{meeting_id}/cancel", summary="Cancel a queued or running meeting")
async def cancel(*, meeting_id: UUID, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """Queued: cancelled at once. Running: the worker is told to abort."""
    m = await deps.orch.cancel(who.tenant_id, meeting_id)
    return await _view(deps, await owned(deps, who, m["id"]))


@router.post("/{meeting_id}/retry", status_code=202, summary="Retry a failed meeting")
async def retry(*, meeting_id: UUID, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """Queue the failed stage again; earlier stages' results are kept."""
    await deps.orch.retry(who.tenant_id, meeting_id)
    return await _view(deps, await owned(deps, who, meeting_id))


@router.post("/{meeting_id}/rerun", status_code=202, summary="Re-run one stage")
async def rerun(
    *,
    meeting_id: UUID,
    body: RerunRequest,
    who: Caller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Re-run ``transcribe`` or ``summarize`` (and what follows) with other settings."""
    overrides = body.model_dump(exclude={"stage"}, exclude_none=True)
    await deps.orch.rerun(who.tenant_id, meeting_id, Stage(body.stage), overrides)
    return await _view(deps, await owned(deps, who, meeting_id))


@router.post("/{meeting_id}/summarize", status_code=202, summary="Summarize again")
async def resummarize(
    *,
    meeting_id: UUID,
    body: dict[str, Any] | None = None,
    who: Caller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Shorthand for ``rerun`` with ``stage=summarize``."""
    req = _validate_rerun({**(body or {}), "stage": "summarize"})
    return await rerun(meeting_id=meeting_id, body=req, who=who, deps=deps)


def _validate_rerun(data: dict[str, Any]) -> RerunRequest:
    try:
        return RerunRequest.model_validate(data)
    except ValidationError as e:
        raise invalid_from(e) from e


@router.patch("/{meeting_id}/speakers", summary="Name speakers")
async def rename_speakers(
    *,
    meeting_id: UUID,
    names: dict[str, str],
    who: Caller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Map speaker labels to names, e.g. ``{"S1": "Alice"}`` (empty name removes)."""
    for label, name in names.items():
        if not label or len(label) > 64 or len(name) > 200:
            raise Invalid(f"field '{label[:64]}': labels ≤ 64 and names ≤ 200 characters")
    m = await deps.orch.rename_speakers(who.tenant_id, meeting_id, names)
    return await _view(deps, m)


@router.delete("/{meeting_id}", status_code=204, summary="Delete a meeting and its files")
async def delete_meeting(*, meeting_id: UUID, who: Caller, deps: AppDeps) -> Response:
    """Delete the meeting, its events, dispatches and every stored file."""
    await deps.orch.delete(who.tenant_id, meeting_id)
    return Response(status_code=204)


@router.get("/{meeting_id}/events", summary="The meeting's event log")
async def list_events(
    *,
    meeting_id: UUID,
    after_seq: int = Query(default=0, ge=0),
    limit: int = Query(default=500, ge=1, le=5000),
    who: Caller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Events after ``after_seq``, in order (the same messages the WebSocket sends)."""
    m = await owned(deps, who, meeting_id)
    async with deps.pool.acquire() as conn:
        found = await events.for_meeting(conn, m["id"], after_seq, limit)
    return {"items": [events.to_message(e) for e in found], "last_seq": m["last_seq"]}
