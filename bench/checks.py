"""Correctness after a run, read from the gateway's database and the feed a client saw:
every meeting reached ``completed`` and no event is missing from what the client received."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import asyncpg


async def statuses(dsn: str, ids: Iterable[str]) -> dict[str, int]:
    """How many of ``ids`` are in each status."""
    conn = await asyncpg.connect(dsn)
    try:
        recs = await conn.fetch(
            "SELECT status, count(*) AS n FROM meetings WHERE id = ANY($1::uuid[]) GROUP BY 1",
            list(ids),
        )
    finally:
        await conn.close()
    return {r["status"]: int(r["n"]) for r in recs}


async def persisted_events(dsn: str, ids: Iterable[str]) -> dict[str, list[int]]:
    """Per meeting, the ``seq`` of every persisted event, in order."""
    conn = await asyncpg.connect(dsn)
    try:
        recs = await conn.fetch(
            "SELECT meeting_id::text AS m, seq FROM events WHERE meeting_id = ANY($1::uuid[]) "
            "ORDER BY meeting_id, seq",
            list(ids),
        )
    finally:
        await conn.close()
    out: dict[str, list[int]] = defaultdict(list)
    for r in recs:
        out[r["m"]].append(int(r["seq"]))
    return out


async def event_rate(dsn: str) -> dict[str, Any]:
    """Events persisted and the span over which they were written."""
    conn = await asyncpg.connect(dsn)
    try:
        rec = await conn.fetchrow(
            "SELECT count(*) AS n, EXTRACT(EPOCH FROM max(persisted_at) - min(persisted_at))"
            "::float8 AS span FROM events"
        )
    finally:
        await conn.close()
    assert rec is not None
    n, span = int(rec["n"]), float(rec["span"] or 0.0)
    return {"events": n, "span_s": round(span, 3), "per_s": round(n / span, 1) if span else None}


def missing_events(
    persisted: dict[str, list[int]], received: Iterable[tuple[str, int | None]]
) -> dict[str, Any]:
    """Compare persisted events with those a feed delivered (by meeting and ``seq``).

    Also checks that each meeting's persisted ``seq`` runs 1..n without a gap.
    """
    got: dict[str, set[int]] = defaultdict(set)
    duplicates = 0
    for meeting_id, seq in received:
        if seq is None:
            continue
        if seq in got[meeting_id]:
            duplicates += 1
        got[meeting_id].add(seq)
    missing = {m: sorted(set(seqs) - got[m]) for m, seqs in persisted.items()}
    missing = {m: s for m, s in missing.items() if s}
    gaps = [m for m, seqs in persisted.items() if seqs != list(range(1, len(seqs) + 1))]
    return {
        "persisted": sum(len(s) for s in persisted.values()),
        "missing": sum(len(s) for s in missing.values()),
        "meetings_missing_events": len(missing),
        "meetings_with_seq_gaps": len(gaps),
        "duplicates": duplicates,
    }
