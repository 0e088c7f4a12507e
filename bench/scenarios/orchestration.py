"""Scenarios 1 and 3: orchestration throughput with the noop engines, and the delay from a
worker's publish of an event to its arrival at a WebSocket client under that load."""

from __future__ import annotations

from typing import Any

from bench import checks
from bench.client import FeedEvent
from bench.goals import goal
from bench.runner import LoadGen, silent_wav
from bench.sizes import Size
from bench.stack import Stack
from bench.stats import rate, summary

#: Events a worker publishes (their ``occurred_at`` is set by the worker).
WORKER_TYPES = {
    "stage.started",
    "stage.progress",
    "ingest.completed",
    "transcript.completed",
    "minutes.completed",
    "transcript.segment",
    "stage.failed",
}


def feed_events(raw: dict[str, Any]) -> list[FeedEvent]:
    """The load generator's events back as ``FeedEvent``s."""
    fields = raw["event_fields"]
    return [FeedEvent(**dict(zip(fields, row, strict=True))) for row in raw["events"]]


async def verify(stack: Stack, ids: list[str], events: list[FeedEvent]) -> dict[str, Any]:
    """Every meeting completed, and the feed delivered every persisted event."""
    st = await checks.statuses(stack.dsn, ids)
    persisted = await checks.persisted_events(stack.dsn, ids)
    wanted = set(ids)
    received = [(e.meeting_id, e.seq) for e in events if e.meeting_id in wanted]
    missing = checks.missing_events(persisted, received)
    ok = st.get("completed", 0) == len(ids) and missing["missing"] == 0
    ok = ok and missing["meetings_with_seq_gaps"] == 0
    return {
        "statuses": st,
        **missing,
        "all_completed": st.get("completed", 0) == len(ids),
        "ok": ok,
    }


def analyse(raw: dict[str, Any]) -> dict[str, Any]:
    """Rates and latencies from one throughput run."""
    events = feed_events(raw)
    final = {}
    for e in events:
        if e.status in ("completed", "failed", "cancelled") and e.meeting_id not in final:
            final[e.meeting_id] = e.received
    subs = raw["submitted"]
    lat = [final[m] - t0 for m, t0, _t1, _b in subs if m in final]
    last = max((final[m] for m, *_ in subs if m in final), default=raw["t_end"])
    n = len(subs)
    return {
        "submissions": n,
        "submit_errors": len(raw["errors"]),
        "submissions_per_s": rate(n, raw["t_submitted"] - raw["t_start"]),
        "completed_per_s": rate(len(lat), last - raw["t_start"]),
        "submit_ms": summary([t1 - t0 for _m, t0, t1, _b in subs], 1000),
        "latency_ms": summary(lat, 1000),
        "wall_s": round(last - raw["t_start"], 2),
    }


def event_latency(events: list[FeedEvent]) -> dict[str, Any]:
    """Worker publish → WebSocket arrival, overall and per event type."""
    by_type: dict[str, list[float]] = {}
    for e in events:
        if e.type in WORKER_TYPES and e.occurred_at is not None:
            by_type.setdefault(e.type, []).append(e.received - e.occurred_at)
    every = [x for xs in by_type.values() for x in xs]
    return {"all_ms": summary(every, 1000), **{t: summary(v, 1000) for t, v in by_type.items()}}


async def idle_latency(stack: Stack, size: Size) -> dict[str, Any]:
    """One meeting at a time on an idle stack: submit → completed seen on the feed."""
    audio = silent_wav(stack.dir / "idle.wav")
    spec = {"mode": "idle", "base": stack.url, "key": stack.key, "audio": str(audio)}
    raw = await LoadGen({**spec, "n": size.idle_runs}, stack.dir).run()
    runs = raw["runs"]
    return {
        "e2e_ms": summary([done - t0 for t0, _t1, done in runs], 1000),
        "submit_ms": summary([t1 - t0 for t0, t1, _d in runs], 1000),
        "all_completed": all(s == "completed" for s in raw["final"].values()),
    }


async def run(size: Size) -> dict[str, dict[str, Any]]:
    """Scenario 1 (throughput + idle latency) and 3 (event latency) on one stack."""
    async with Stack("s1") as stack:
        idle = await idle_latency(stack, size)
        audio = silent_wav(stack.dir / "one.wav")
        spec = {
            "mode": "throughput",
            "base": stack.url,
            "key": stack.key,
            "audio": str(audio),
            "n": size.meetings,
            "concurrency": size.concurrency,
            "timeout_s": 900,
        }
        raw = await LoadGen(spec, stack.dir).run()
        memory = stack.memory()
        events = feed_events(raw)
        ids = [m for m, *_ in raw["submitted"]]
        check = await verify(stack, ids, events)
        figures = analyse(raw)
        figures["events"] = await checks.event_rate(stack.dsn)
        figures["idle"] = idle
        figures["peak_rss_mib"] = {k: v["peak_rss_mib"] for k, v in memory.items()}
        figures["cpu_s"] = {k: v["cpu_s"] for k, v in memory.items()}
        lat = event_latency(events)
    s1 = {
        "title": "Orchestration throughput (noop engines)",
        "params": {"meetings": size.meetings, "concurrency": size.concurrency},
        "figures": figures,
        "goals": [
            goal("meetings completed/s", figures["completed_per_s"], ">=", 170, "/s"),
            goal("submit→completed p99", figures["latency_ms"].get("p99"), "<=", 1000, "ms"),
            goal("idle latency p50", idle["e2e_ms"].get("p50"), "<=", 15, "ms"),
        ],
        "checks": {**check, "ok": check["ok"] and idle["all_completed"]},
    }
    s3 = {
        "title": "Event latency (worker publish → WebSocket client) under scenario 1's load",
        "params": {"meetings": size.meetings, "concurrency": size.concurrency},
        "figures": lat,
        "goals": [goal("event latency p99", lat["all_ms"].get("p99"), "<=", 50, "ms")],
        "checks": {"ok": check["ok"] and lat["all_ms"]["n"] > 0, "events": lat["all_ms"]["n"]},
    }
    return {"1": s1, "3": s3}
