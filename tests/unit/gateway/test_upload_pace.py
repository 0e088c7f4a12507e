"""Slow uploads: a stalled or dripping body is cut off with 408 and leaves no blob; a
steady one, or a short pause within the limits, is stored whole."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from gateway.api.upload import UploadPace, UploadTooSlow, receive_upload
from shared.storage import LocalBlobStore
from starlette.requests import Request

BOUNDARY = "b0undary"
HEAD = (
    f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=a.wav\r\n\r\n"
).encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def _request(chunks: list[bytes], pause_s: float) -> Request:
    """A request whose body arrives in ``chunks`` with ``pause_s`` before each."""
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(pause_s)
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/meetings",
        "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
        "app": None,
    }
    return Request(scope, receive)


KEY = "meetings/x/original"


async def test_a_stalled_upload_is_cut_off_and_leaves_no_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    pace = UploadPace(idle_timeout_s=0.2, min_bytes_per_s=0, grace_s=0)
    req = _request([HEAD, b"a" * 10, b"b", TAIL], pause_s=0.5)
    with pytest.raises(UploadTooSlow) as err:
        await asyncio.wait_for(receive_upload(req, store, KEY, 1000, pace), 5)
    assert err.value.status == 408
    assert err.value.body()["error"] == "upload_too_slow"
    assert "source_url" in err.value.detail
    assert not await store.exists(KEY)


async def test_a_drip_below_the_rate_floor_is_cut_off(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    pace = UploadPace(idle_timeout_s=30, min_bytes_per_s=1000, grace_s=0.3)
    req = _request([HEAD] + [b"x"] * 100 + [TAIL], pause_s=0.05)  # ~20 bytes/s
    with pytest.raises(UploadTooSlow):
        await asyncio.wait_for(receive_upload(req, store, KEY, 1000, pace), 5)
    assert not await store.exists(KEY)


async def test_a_pause_within_the_limits_is_fine(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    pace = UploadPace(idle_timeout_s=2, min_bytes_per_s=1, grace_s=2)
    req = _request([HEAD, b"a" * 300, b"b" * 200, TAIL], pause_s=0.1)
    _, size = await asyncio.wait_for(receive_upload(req, store, KEY, 1000, pace), 5)
    assert size == 500
    assert await store.get_bytes(KEY) == b"a" * 300 + b"b" * 200


def test_the_rate_deadline_moves_with_the_bytes_received() -> None:
    pace = UploadPace(idle_timeout_s=30, min_bytes_per_s=100, grace_s=10)
    assert pace.wait_s(elapsed=0, received=0) == 10
    assert pace.wait_s(elapsed=9, received=0) == pytest.approx(1)
    assert pace.wait_s(elapsed=12, received=1000) == pytest.approx(8)
    assert pace.wait_s(elapsed=5, received=10**6) == 30  # the idle limit still applies
    assert pace.wait_s(elapsed=11, received=0) < 0
