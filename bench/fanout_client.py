"""Many WebSocket subscribers in one process, for the fan-out scenario.

Normal subscribers read as fast as they can and record, for every event, the delay from
its ``occurred_at`` to its arrival. Stalled subscribers connect with a tiny receive buffer
and never read, so the gateway must drop them without slowing the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from bench import client


async def _read(ws: Any, lat: list[float], seen: list[int], idx: int, since: float) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for raw in ws:
            now = time.time()
            ev = client.parse(raw, now)
            # Meeting feeds replay the log first: only events made after READY are timed.
            if ev is None or ev.occurred_at is None or ev.occurred_at < since:
                continue
            seen[idx] += 1
            lat.append(round(now - ev.occurred_at, 5))


def _tiny_socket(base: str) -> socket.socket:
    parts = urlsplit(base)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.setblocking(False)
    return sock


async def _open(
    http: httpx.AsyncClient, spec: dict[str, Any], meeting_id: str | None, stalled: bool
) -> Any:
    path = "/v1/events" if meeting_id is None else f"/v1/meetings/{meeting_id}/events"
    ticket = await client.ticket(http, spec["key"])
    url = client.ws_url(spec["base"], path, ticket)
    if stalled:
        # max_queue=1: the library stops reading the socket once one frame waits unread.
        return await websockets.connect(
            url, sock=_tiny_socket(spec["base"]), max_queue=1, ping_interval=None
        )
    return await websockets.connect(url, max_size=2**22, ping_interval=None)


async def run_fanout(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the subscribers, signal READY, record until ``stop_file`` exists."""
    targets: list[str | None] = [*spec["meeting_ids"], *([None] * int(spec["tenant_feeds"]))]
    n_stalled = int(spec.get("stalled", 0))
    lat: list[float] = []
    seen = [0] * len(targets)
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=spec["base"], timeout=60, limits=limits) as http:
        t0 = time.time()
        sem = asyncio.Semaphore(16)

        async def opened(target: str | None, stalled: bool) -> Any:
            async with sem:
                return await _open(http, spec, target, stalled)

        conns = await asyncio.gather(*(opened(t, False) for t in targets))
        stalled = await asyncio.gather(*(opened(None, True) for _ in range(n_stalled)))
        connect_s = time.time() - t0
        since = time.time()
        readers = [
            asyncio.create_task(_read(ws, lat, seen, i, since)) for i, ws in enumerate(conns)
        ]
        print("READY", flush=True)  # the harness waits for this line
        stop_file = Path(spec["stop_file"])
        deadline = time.monotonic() + float(spec.get("timeout_s", 600))
        while not stop_file.exists() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        closed_normal = sum(1 for ws in conns if ws.close_code is not None)
        stalled_result = await asyncio.gather(*(_drain(ws) for ws in stalled))
        for r in readers:
            r.cancel()
        await asyncio.gather(*(ws.close() for ws in [*conns, *stalled]), return_exceptions=True)
    return {
        "connect_s": connect_s,
        "since": since,
        "connections": len(conns),
        "latencies": lat,
        "seen": seen,
        "targets": targets,
        "closed_normal": closed_normal,
        "stalled": n_stalled,
        "stalled_result": stalled_result,
    }


async def _drain(ws: Any, quiet_s: float = 5.0) -> dict[str, Any]:
    """Read what a stalled subscriber was sent: did the server end the connection?"""
    got = 0
    try:
        while True:
            await asyncio.wait_for(ws.recv(), quiet_s)
            got += 1
    except ConnectionClosed:
        return {"received": got, "dropped": True, "close_code": ws.close_code}
    except TimeoutError:
        return {"received": got, "dropped": False, "close_code": None}
