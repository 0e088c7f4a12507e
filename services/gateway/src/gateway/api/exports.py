"""Downloads: transcript (json, txt, srt, vtt), minutes (json, md), audio with Range."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from shared.minutes import Minutes, to_markdown
from shared.storage import BlobNotFound, meeting_key
from shared.transcript import EXPORTERS, MEDIA_TYPES, Transcript

from gateway.api.meetings import owned
from gateway.deps import AppDeps, Caller, Deps
from gateway.errors import ApiError, Conflict, NotFound

router = APIRouter(prefix="/v1/meetings", tags=["exports"])
_CHUNK = 256 * 1024


class RangeNotSatisfiable(ApiError):
    status = 416
    code = "range_not_satisfiable"


def _not_ready(m: dict[str, Any], what: str) -> Conflict:
    if m["status"] in ("failed", "cancelled"):
        why = f"the meeting {m['status']}" + (
            f" in {m['error_stage']}: {m['error_reason']}" if m["error_reason"] else ""
        )
    else:
        why = f"the meeting is still {m['status']}"
    return Conflict(f"the {what} is not ready: {why}", code="not_ready")


async def _read(deps: Deps, key: str) -> bytes:
    try:
        return await deps.store.get_bytes(key)
    except BlobNotFound as e:
        raise NotFound("the stored file is missing (it may have been deleted by retention)") from e


@router.get("/{meeting_id}/transcript", summary="Download the transcript")
async def transcript(
    *,
    meeting_id: UUID,
    format: str = Query(default="json", pattern="^(json|txt|srt|vtt)$"),
    who: Caller,
    deps: AppDeps,
) -> Response:
    """The transcript with speaker names applied; 409 until transcription finished."""
    m = await owned(deps, who, meeting_id)
    key = (m["artifacts"] or {}).get("transcript_key")
    if not key:
        raise _not_ready(m, "transcript")
    t = Transcript.model_validate_json(await _read(deps, key))
    t = t.with_speaker_names(m["speaker_names"] or {})
    body = EXPORTERS[format](t)
    headers = {"Content-Disposition": f'inline; filename="transcript-{meeting_id}.{format}"'}
    return Response(body, media_type=MEDIA_TYPES[format], headers=headers)


@router.get("/{meeting_id}/minutes", summary="Download the minutes")
async def minutes(
    *,
    meeting_id: UUID,
    format: str = Query(default="json", pattern="^(json|md)$"),
    who: Caller,
    deps: AppDeps,
) -> Response:
    """Minutes as JSON or Markdown (speaker names applied); 409 until summarized."""
    m = await owned(deps, who, meeting_id)
    key = (m["artifacts"] or {}).get("minutes_key")
    if not key:
        raise _not_ready(m, "minutes")
    mins = Minutes.model_validate_json(await _read(deps, key))
    if format == "md":
        return Response(
            to_markdown(mins, m["speaker_names"] or {}), media_type="text/markdown; charset=utf-8"
        )
    return Response(mins.model_dump_json(indent=2), media_type="application/json")


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte of a single ``Range: bytes=a-b`` (416 if unsatisfiable)."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        raise RangeNotSatisfiable(f"unsupported Range {header!r}; use bytes=first-last")
    first_s, last_s = match.groups()
    if not first_s:
        first, last = max(0, size - int(last_s)), size - 1
    else:
        first = int(first_s)
        last = min(int(last_s), size - 1) if last_s else size - 1
    if first >= size or first > last:
        raise RangeNotSatisfiable(
            f"range {header!r} is outside the {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return first, last


async def _file_chunks(path: str, first: int, last: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as fh:
        await fh.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = await fh.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


@router.get("/{meeting_id}/audio", summary="Stream the audio (supports HTTP Range)")
async def audio(
    *,
    meeting_id: UUID,
    request: Request,
    kind: str = Query(default="normalized", pattern="^(original|normalized)$"),
    who: Caller,
    deps: AppDeps,
) -> Response:
    """The original upload or the normalized FLAC; ``Range`` gives 206 so players can seek."""
    m = await owned(deps, who, meeting_id)
    key = (
        m["audio_key"]
        if kind == "normalized"
        else (m["source"] if m["source_kind"] == "upload" else meeting_key(m["id"], "original"))
    )
    if not key or not await deps.store.exists(key):
        raise (
            _not_ready(m, f"{kind} audio")
            if kind == "normalized" and not m["audio_key"]
            else NotFound(f"no {kind} audio is stored for this meeting")
        )
    async with deps.store.local_path(key) as path:
        size = os.path.getsize(path)
        media = "audio/flac" if kind == "normalized" else "application/octet-stream"
        headers = {"Accept-Ranges": "bytes"}
        header = request.headers.get("range")
        first, last, status = 0, size - 1, 200
        if header:
            first, last = parse_range(header, size)
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
        return StreamingResponse(
            _file_chunks(str(path), first, last),
            status_code=status,
            media_type=media,
            headers=headers,
        )
