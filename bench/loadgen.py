"""The load generator: a process of its own that drives the stack over REST and WebSocket.

    python -m bench.loadgen SPEC.json OUT.json

``SPEC.json`` names a ``mode``:

- ``throughput``: one tenant-feed subscriber for the whole run, ``n`` submissions by
  ``concurrency`` clients; ends when every submitted meeting is final (or ``min_finals``
  meetings of any kind are, for a pre-queued backlog) or at ``timeout_s``.
- ``idle``: ``n`` meetings one after another on an otherwise idle stack.
- ``probe``: sequential reads of meetings (with queue position and ETA) and of ``/v1/queue``.
- ``fanout``: many feed subscribers (and a few that stop reading); records when each event
  reaches each subscriber until the file ``stop_file`` appears.

It prints ``READY`` once its feeds are open, and writes raw timings to ``OUT.json``; the
harness computes the statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import client
from bench.fanout_client import run_fanout


def _ready() -> None:
    sys.stdout.write("READY\n")
    sys.stdout.flush()


class Feed:
    """Reads one tenant feed into a list of events; tracks meetings that reached the end."""

    def __init__(self) -> None:
        self.events: list[client.FeedEvent] = []
        self.final: dict[str, tuple[str, float]] = {}
        self.changed = asyncio.Event()

    async def read(self, ws: Any) -> None:
        async for raw in ws:
            ev = client.parse(raw, time.time())
            if ev is None:
                continue
            self.events.append(ev)
            if ev.status in client.FINAL and ev.meeting_id not in self.final:
                self.final[ev.meeting_id] = (ev.status, ev.received)
                self.changed.set()

    async def wait(self, done: Any, limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
        return True


def _http(spec: dict[str, Any], conns: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    return httpx.AsyncClient(base_url=spec["base"], timeout=120, limits=limits)


async def throughput(spec: dict[str, Any]) -> dict[str, Any]:
    audio = Path(spec["audio"]).read_bytes()
    n, conc = int(spec["n"]), int(spec["concurrency"])
    feed = Feed()
    submitted: list[client.Submitted] = []
    errors: list[str] = []
    async with _http(spec, conc + 2) as http:
        ws = await client.connect_feed(http, spec["base"], spec["key"])
        reader = asyncio.create_task(feed.read(ws))
        _ready()
        counter = iter(range(n))
        t_start = time.time()

        async def one_client() -> None:
            for i in counter:
                try:
                    submitted.append(await client.submit(http, spec["key"], audio, f"bench {i}"))
                except Exception as e:  # recorded and reported, the run goes on
                    errors.append(repr(e)[:300])

        await asyncio.gather(*(one_client() for _ in range(conc)))
        t_submitted = time.time()
        ids = {s.meeting_id for s in submitted}
        min_finals = spec.get("min_finals")

        def done() -> bool:
            if min_finals is not None:
                return len(feed.final) >= int(min_finals)
            return ids.issubset(feed.final)

        complete = await feed.wait(done, float(spec.get("timeout_s", 600)))
        t_end = time.time()
        await asyncio.sleep(float(spec.get("linger_s", 0.5)))  # late events (none expected)
        reader.cancel()
        await ws.close()
    return {
        "t_start": t_start,
        "t_submitted": t_submitted,
        "t_end": t_end,
        "complete": complete,
        "errors": errors,
        "submitted": [[s.meeting_id, s.started, s.answered, s.body] for s in submitted],
        "events": [list(vars(e).values()) for e in feed.events],
        "event_fields": list(client.FeedEvent.__dataclass_fields__),
    }


async def idle(spec: dict[str, Any]) -> dict[str, Any]:
    audio = Path(spec["audio"]).read_bytes()
    feed = Feed()
    runs: list[list[float]] = []
    async with _http(spec, 2) as http:
        ws = await client.connect_feed(http, spec["base"], spec["key"])
        reader = asyncio.create_task(feed.read(ws))
        _ready()
        for i in range(int(spec["n"])):
            sub = await client.submit(http, spec["key"], audio, f"idle {i}")
            ok = await feed.wait(lambda s=sub: s.meeting_id in feed.final, 30)
            if not ok:
                raise RuntimeError(f"meeting {sub.meeting_id} did not finish within 30 s")
            runs.append([sub.started, sub.answered, feed.final[sub.meeting_id][1]])
            await asyncio.sleep(float(spec.get("pause_s", 0.05)))
        reader.cancel()
        await ws.close()
    return {"runs": runs, "final": {k: v[0] for k, v in feed.final.items()}}


async def _timed_get(http: httpx.AsyncClient, path: str, key: str) -> tuple[float, int, Any]:
    t0 = time.perf_counter()
    resp = await http.get(path, headers=client.auth(key))
    elapsed = time.perf_counter() - t0
    return elapsed, resp.status_code, resp.json() if resp.status_code < 500 else resp.text


async def probe(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"meeting": [], "queue": [], "samples": {}}
    async with _http(spec, 2) as http:
        _ready()
        ids = spec["meeting_ids"]
        for i in range(int(spec["reads"])):
            mid = ids[i % len(ids)]
            elapsed, code, body = await _timed_get(http, f"/v1/meetings/{mid}", spec["key"])
            out["meeting"].append([elapsed, code])
            out["samples"].setdefault("meeting", body)
        for _ in range(int(spec["queue_reads"])):
            elapsed, code, body = await _timed_get(http, "/v1/queue", spec["admin_key"])
            out["queue"].append([elapsed, code])
            out["samples"].setdefault("queue", body)
    return out


MODES = {"throughput": throughput, "idle": idle, "probe": probe, "fanout": run_fanout}


def main() -> None:
    """Entry point: run the mode the spec names and write its raw results."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(MODES[spec["mode"]](spec))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
