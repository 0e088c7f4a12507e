"""Scenario 2: the same pipeline with a large backlog already queued.

For each backlog size: stop no worker but start none, submit one meeting over REST and
clone it in SQL (see ``bench.backlog_sql``), then measure reads of the deepest meetings
(exact position and ETA) and ``/v1/queue``, and finally start the workers and measure the
drain rate and the submission latency while it drains.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from bench import backlog_sql, client
from bench.goals import goal
from bench.runner import LoadGen, silent_wav
from bench.sizes import Size
from bench.stack import Stack, StackConfig
from bench.stats import rate, summary


def drain_rate(raw: dict[str, Any], skip: int) -> float | None:
    """Completions per second over the run, ignoring the first ``skip`` (warm-up)."""
    times = sorted({e[0]: e[6] for e in raw["events"] if e[4] in client.FINAL}.values())
    times = times[skip:]
    if len(times) < 2:
        return None
    return rate(len(times) - 1, times[-1] - times[0])


async def _deepest(dsn: str, count: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        recs = await conn.fetch(
            "SELECT id::text FROM meetings WHERE status = 'queued' "
            "ORDER BY created_at DESC LIMIT $1",
            count,
        )
    finally:
        await conn.close()
    return [r["id"] for r in recs]


async def one_size(size: Size, backlog: int) -> dict[str, Any]:
    """Build a backlog of ``backlog`` meetings and measure reads, submissions and the drain."""
    async with Stack(f"s2-{backlog}", StackConfig(start_workers=False)) as stack:
        audio = silent_wav(stack.dir / "one.wav")
        async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
            template = await client.submit(http, stack.key, audio.read_bytes(), "template")
        build_s = await backlog_sql.clone(stack.dsn, template.meeting_id, backlog - 1)
        deep = await _deepest(stack.dsn, 10)
        base = {"base": stack.url, "key": stack.key, "admin_key": stack.admin_key}
        probe = await LoadGen(
            {
                **base,
                "mode": "probe",
                "meeting_ids": deep,
                "reads": size.reads,
                "queue_reads": size.queue_reads,
            },
            stack.dir,
        ).run()
        gen = LoadGen(
            {
                **base,
                "mode": "throughput",
                "audio": str(audio),
                "n": size.backlog_submissions,
                "concurrency": size.concurrency,
                "min_finals": min(size.backlog_finals, backlog),
                "timeout_s": 900,
            },
            stack.dir,
        )
        await gen.start()
        for module, count in stack.config.replicas.items():
            stack.start_workers(module, count)
        raw = await gen.result()
    subs = raw["submitted"]
    return {
        "backlog": backlog,
        "build_s": build_s,
        "build_method": "1 meeting over REST, cloned in SQL",
        "read_meeting_ms": summary([x[0] for x in probe["meeting"]], 1000),
        "read_status_codes": sorted({x[1] for x in probe["meeting"]}),
        "queue_ms": summary([x[0] for x in probe["queue"]], 1000),
        "sample_meeting": probe["samples"].get("meeting"),
        "submit_ms": summary([t1 - t0 for _m, t0, t1, _b in subs], 1000),
        "submit_errors": len(raw["errors"]),
        "drain_per_s": drain_rate(raw, skip=min(50, len(subs) // 10)),
        "finals_seen": sum(1 for e in raw["events"] if e[4] == "completed"),
        "complete": raw["complete"],
    }


async def run(size: Size) -> dict[str, dict[str, Any]]:
    """Every backlog size of ``size``; goals compare the largest with the smallest."""
    per = [await one_size(size, b) for b in size.backlogs]
    small, big = per[0], per[-1]
    ratio = None
    if small["drain_per_s"] and big["drain_per_s"]:
        ratio = round(big["drain_per_s"] / small["drain_per_s"], 3)
    ok = all(
        p["complete"] and p["read_status_codes"] == [200] and p["submit_errors"] == 0 for p in per
    )
    return {
        "2": {
            "title": "Backlog scale",
            "params": {"backlogs": list(size.backlogs)},
            "figures": {"per_backlog": per, "drain_ratio_largest_vs_smallest": ratio},
            "goals": [
                goal(
                    f"drain rate at {big['backlog']:,} / at {small['backlog']:,}", ratio, ">=", 0.9
                ),
                goal(
                    f"read meeting+position p99 at {big['backlog']:,}",
                    big["read_meeting_ms"].get("p99"),
                    "<=",
                    10,
                    "ms",
                ),
                goal(
                    f"/v1/queue p99 at {big['backlog']:,}",
                    big["queue_ms"].get("p99"),
                    "<=",
                    50,
                    "ms",
                ),
                goal(
                    f"submission p99 at {big['backlog']:,} (vs {small['backlog']:,}: "
                    f"{small['submit_ms'].get('p99')} ms)",
                    big["submit_ms"].get("p99"),
                    "<=",
                    round((small["submit_ms"].get("p99") or 0) * 1.1, 1),
                    "ms",
                ),
            ],
            "checks": {"ok": ok},
        }
    }
