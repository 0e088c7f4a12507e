"""Limits a hostile or broken client runs into: the upload size (413 while the body still
streams), a burst of submissions (429 with Retry-After, other keys unaffected), a slow-drip
upload (timed out), and a WebSocket client that never reads (dropped, others unharmed).
The duration limit is covered by ``test_media`` (``too_long``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import websockets

from tests.chaos.stack import Stack
from tests.security.conftest import MAX_UPLOAD, client, upload, wait_status
from tests.support.media import speak

pytestmark = pytest.mark.integration
BOUNDARY = "----minutaboundary"


def _upload_head(url: str, key: str) -> bytes:
    host = urlsplit(url).netloc
    return (
        f"POST /v1/meetings HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


PART_HEAD = (
    f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=big.wav\r\n"
    "Content-Type: audio/wav\r\n\r\n"
).encode()


async def _stream_until_answer(url: str, key: str, total: int) -> tuple[bytes, int]:
    """Stream a chunked upload of ``total`` bytes; stop as soon as the server answers.
    Returns the answer and how many body bytes had been sent by then."""
    u = urlsplit(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    writer.write(_upload_head(url, key) + _chunk(PART_HEAD))
    sent, block = 0, bytes(64 * 1024)
    answer = asyncio.ensure_future(reader.read(4096))
    try:
        while sent < total and not answer.done():
            writer.write(_chunk(block))
            sent += len(block)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer.drain()), 0.01)
        got = await asyncio.wait_for(answer, 30)
    except (ConnectionError, OSError):
        got = await asyncio.wait_for(answer, 30)
    try:
        while b"}" not in got.split(b"\r\n\r\n", 1)[-1]:  # the JSON body may come later
            more = await asyncio.wait_for(reader.read(4096), 10)
            if not more:
                break
            got += more
    finally:
        writer.close()
    return got, sent


async def test_upload_over_the_limit_is_refused_while_streaming(
    sec_stack: Stack, gw_url: str
) -> None:
    key = await sec_stack.key(f"big-{uuid.uuid4().hex[:6]}")
    before = set((sec_stack.blob_root / "meetings").glob("*/original"))
    answer, sent = await _stream_until_answer(gw_url, key, 40 * MAX_UPLOAD)
    status = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in status, answer[:300]
    assert b"upload_too_large" in answer
    assert sent < 10 * MAX_UPLOAD, f"the server read {sent} bytes before refusing"
    left = set((sec_stack.blob_root / "meetings").glob("*/original")) - before
    assert not left, f"a refused upload left files behind: {left}"


async def test_a_burst_is_limited_and_others_unaffected(sec_stack: Stack, gw_url: str) -> None:
    noisy = await sec_stack.key(f"burst-{uuid.uuid4().hex[:6]}")
    quiet = await sec_stack.key(f"quiet-{uuid.uuid4().hex[:6]}")
    # An invalid body (no source) is answered after the limiter: no meeting gets created.
    async with client(gw_url, noisy) as c:
        sem = asyncio.Semaphore(50)

        async def one() -> tuple[int, str | None]:
            async with sem:
                r = await c.post("/v1/meetings", json={})
                return r.status_code, r.headers.get("retry-after")

        answers = await asyncio.gather(*(one() for _ in range(1000)))
    limited = [ra for status, ra in answers if status == 429]
    assert len(limited) >= 900, sorted({s for s, _ in answers})
    assert all(ra is not None and ra.isdigit() and int(ra) >= 1 for ra in limited)
    assert {s for s, _ in answers} <= {422, 429}
    async with client(gw_url, quiet) as c:
        r = await c.post("/v1/meetings", json={})
        assert r.status_code == 422, r.text  # judged on its merits, not limited


async def test_a_slow_drip_upload_is_timed_out(sec_stack: Stack, gw_url: str) -> None:
    key = await sec_stack.key(f"drip-{uuid.uuid4().hex[:6]}")
    u = urlsplit(gw_url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    writer.write(_upload_head(gw_url, key) + _chunk(PART_HEAD))
    closed_by_server = False
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            writer.write(_chunk(b"\0"))
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                got = await asyncio.wait_for(reader.read(4096), 2)
                closed_by_server = True  # an answer (408/413) or EOF
                assert not got or b" 4" in got.split(b"\r\n", 1)[0], got[:200]
                break
    except (ConnectionError, OSError):
        closed_by_server = True
    finally:
        writer.close()
    assert closed_by_server, "the gateway kept a 1 byte / 2 s upload open for 20 s"


ROUNDS = 150  # x ~70 KB: more than the kernel's socket buffers can absorb


async def _stalled_scenario(
    stack: Stack, gw_url: str, tmp_path: Path
) -> tuple[list[str], list[str]]:
    """A stalled tenant-feed client beside a reading one while ~10 MB of events flow.
    Returns what the reader got, and what the stalled one got once it read again
    ("closed <code>" last if it was dropped, "ping" last if the server kept it all)."""
    key = await stack.key(f"ws-{uuid.uuid4().hex[:6]}")
    async with client(gw_url, key) as c:
        r = await upload(c, speak("Speaker names.", tmp_path / "s.wav").read_bytes())
        mid = r.json()["id"]
        await wait_status(c, mid, {"completed"}, 60)
        tickets = [(await c.post("/v1/ws-ticket")).json()["ticket"] for _ in range(2)]
    ws_base = gw_url.replace("http://", "ws://") + "/v1/events?ticket="
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((urlsplit(gw_url).hostname or "", urlsplit(gw_url).port or 0))
    stalled.setblocking(False)
    stalled_ws = await websockets.connect(ws_base + tickets[0], sock=stalled, max_queue=1)
    stalled_ws.transport.pause_reading()  # type: ignore[attr-defined]
    reader = await websockets.connect(ws_base + tickets[1])
    try:
        names = {f"S{i}": "x" * 200 for i in range(300)}
        async with client(gw_url, key) as c:
            for i in range(ROUNDS):
                names["S0"] = f"round {i}"
                r = await c.patch(f"/v1/meetings/{mid}/speakers", json=names)
                assert r.status_code == 200, r.text
        got = await _renames(reader, ROUNDS)
        stalled_ws.transport.resume_reading()  # type: ignore[attr-defined]
        late = await _renames(stalled_ws, ROUNDS + 1)
    finally:
        await reader.close()
        stalled_ws.transport.abort()  # type: ignore[attr-defined]
    return got, late


async def _renames(ws: websockets.ClientConnection, most: int) -> list[str]:
    """Rename rounds received, until ``most``, a ping (nothing more queued) or a close."""
    seen: list[str] = []
    while len(seen) < most:
        try:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
        except websockets.ConnectionClosed as e:
            seen.append(f"closed {e.rcvd.code if e.rcvd else None}")
            break
        if msg.get("type") == "ping":
            seen.append("ping")
            break
        if msg.get("type") == "speakers.renamed":
            seen.append(msg["data"]["speakers"]["S0"])
    return seen


@pytest.fixture(scope="module")
async def stalled(
    sec_stack: Stack, gw_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[str], list[str]]:
    return await _stalled_scenario(sec_stack, gw_url, tmp_path_factory.mktemp("stalled"))


async def test_a_client_that_never_reads_does_not_hurt_others(
    stalled: tuple[list[str], list[str]],
) -> None:
    got, _ = stalled
    assert got == [f"round {i}" for i in range(ROUNDS)]  # every one, in order


async def test_a_client_that_never_reads_is_dropped(
    stalled: tuple[list[str], list[str]],
) -> None:
    _, late = stalled
    assert late
    assert late[-1].startswith("closed"), f"not dropped; it got {len(late)} events"
    assert len(late) < ROUNDS
