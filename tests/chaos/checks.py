"""The invariants checked after a chaos run, each reported as a figure; ``violations``
lists every one that does not hold (empty means the run passed)."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import asyncpg

from tests.chaos.feed import FeedClient

if TYPE_CHECKING:
    from tests.chaos.run import Run

TERMINAL = ("completed", "failed", "cancelled")
FINAL_EVENTS = ("meeting.completed", "meeting.failed", "meeting.cancelled")


async def settle(run: Run, limit_s: float) -> float:
    """Wait until every accepted meeting is finished (or ``limit_s``); seconds waited."""
    start = time.monotonic()
    conn = await asyncpg.connect(run.stack.dsn)
    try:
        while time.monotonic() - start < limit_s:
            open_ = await conn.fetchval(
                "SELECT count(*) FROM meetings WHERE status <> ALL($1::text[])", list(TERMINAL)
            )
            if open_ == 0:
                break
            await asyncio.sleep(1)
    finally:
        await conn.close()
    return round(time.monotonic() - start, 1)


async def collect(run: Run, feed: FeedClient, feed_upto: int) -> dict[str, Any]:
    conn = await asyncpg.connect(run.stack.dsn)
    try:
        f: dict[str, Any] = {}
        f |= await _states(conn, run)
        f |= await _event_logs(conn)
        f |= await _feed(conn, feed, feed_upto)
        f |= await _artifacts(conn, run)
        f |= await _poisons(conn, run)
    finally:
        await conn.close()
    f |= await _drained_queues(run.stack.namespace)
    f["faults"] = dict(Counter(a["action"] for a in run.actions))
    f["violations"] = _violations(f, run)
    return f


async def _states(conn: asyncpg.Connection, run: Run) -> dict[str, Any]:
    rows = await conn.fetch("SELECT id::text, status, error_reason FROM meetings")
    by_status = Counter(r["status"] for r in rows)
    present = {r["id"] for r in rows}
    return {
        "accepted": len(run.accepted),
        "real_recordings": sum(1 for k in run.accepted.values() if k == "real"),
        "status": dict(by_status),
        "stuck": sum(1 for r in rows if r["status"] not in TERMINAL),
        "failed_without_reason": sum(
            1 for r in rows if r["status"] == "failed" and not (r["error_reason"] or "").strip()
        ),
        "lost": len(set(run.accepted) - present - run.deleted),
        "cancel_requests_accepted": len(run.cancelled),
        "deleted": len(run.deleted),
        "failed_reasons": dict(
            Counter((r["error_reason"] or "")[:80] for r in rows if r["status"] == "failed")
        ),
    }


async def _event_logs(conn: asyncpg.Connection) -> dict[str, Any]:
    rows = await conn.fetch(
        "SELECT meeting_id::text AS m, array_agg(seq ORDER BY seq) AS seqs,"
        " count(*) FILTER (WHERE type = ANY($1::text[])) AS finals"
        " FROM events GROUP BY meeting_id",
        list(FINAL_EVENTS),
    )
    bad_seq = [r["m"] for r in rows if list(r["seqs"]) != list(range(1, len(r["seqs"]) + 1))]
    return {
        "events": sum(len(r["seqs"]) for r in rows),
        "seq_gaps_or_duplicates": len(bad_seq),
        "meetings_without_exactly_one_final_event": sum(1 for r in rows if r["finals"] != 1),
    }


async def _feed(conn: asyncpg.Connection, feed: FeedClient, upto: int) -> dict[str, Any]:
    got = [int(m["tenant_seq"]) for m in feed.received]
    rows = await conn.fetch(
        "SELECT tenant_seq, event_id::text FROM events WHERE tenant_seq <= $1 ORDER BY 1", upto
    )
    expected = {r["tenant_seq"]: r["event_id"] for r in rows}
    received_ids = {int(m["tenant_seq"]): m["event_id"] for m in feed.received}
    missing = [s for s in expected if s not in received_ids]
    mismatched = [s for s, e in expected.items() if s in received_ids and received_ids[s] != e]
    return {
        "feed_received": len(got),
        "feed_reconnects": feed.reconnects,
        "feed_duplicates": len(got) - len(set(got)),
        "feed_out_of_order": sum(1 for a, b in itertools.pairwise(got) if b <= a),
        "feed_missing": len(missing) + len(mismatched),
        # Missing inside what it saw is loss; past its last seq it had not caught up yet.
        "feed_missing_below_last": sum(1 for s in missing if s < feed.last),
        "feed_missing_first": missing[:20],
        "feed_last_tenant_seq": feed.last,
        "db_last_tenant_seq": upto,
    }


async def _artifacts(conn: asyncpg.Connection, run: Run) -> dict[str, Any]:
    rows = await conn.fetch("SELECT id::text, artifacts FROM meetings WHERE status = 'completed'")
    root = run.stack.blob_root
    incomplete = 0
    for r in rows:
        arts = r["artifacts"] if isinstance(r["artifacts"], dict) else json.loads(r["artifacts"])
        keys = [arts.get("transcript_key"), arts.get("minutes_key")]
        if not all(k and (root / k).is_file() for k in keys):
            incomplete += 1
    leftovers = 0
    for mid in run.deleted:
        leftovers += await conn.fetchval("SELECT count(*) FROM meetings WHERE id = $1::uuid", mid)
        leftovers += await conn.fetchval(
            "SELECT count(*) FROM events WHERE meeting_id = $1::uuid", mid
        )
        leftovers += await conn.fetchval(
            "SELECT count(*) FROM dispatches WHERE meeting_id = $1::uuid", mid
        )
        folder = root / "meetings" / mid
        leftovers += sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
    return {"completed_missing_artifacts": incomplete, "deleted_leftovers": leftovers}


async def _poisons(conn: asyncpg.Connection, run: Run) -> dict[str, Any]:
    rows = await conn.fetch("SELECT headers::text AS h, body FROM dead_letters")
    out: dict[str, str] = {}
    for p in getattr(run, "poisons", []):
        hit = any(p.name in r["h"] or bytes(r["body"]) == p.body for r in rows)
        if hit:
            out[p.name] = "dead-lettered"
        elif p.must_dead_letter:
            out[p.name] = "MISSING from the dead-letter table"
        else:
            out[p.name] = "ignored without effect"
    return {"poison": out, "dead_letters": len(rows)}


async def _drained_queues(ns: str, limit_s: float = 45) -> dict[str, Any]:
    """The namespace's queues once empty, or as they are after ``limit_s`` (workers may
    still be finishing jobs of cancelled meetings when the last meeting ends)."""
    deadline = time.monotonic() + limit_s
    while True:
        q = await asyncio.to_thread(_queues, ns)
        busy = [c for name, c in q["queues"].items() if c["ready"] or c["unacked"]]
        if not busy or time.monotonic() > deadline:
            return q
        await asyncio.sleep(1)


def _queues(ns: str) -> dict[str, Any]:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "name", "messages_ready", "messages_unacknowledged"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    queues = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(ns + ".") and parts[1].isdigit():
            queues[parts[0]] = {"ready": int(parts[1]), "unacked": int(parts[2])}
    return {"queues": queues}


def _violations(f: dict[str, Any], run: Run) -> list[str]:
    v = []
    for name in (
        "stuck",
        "failed_without_reason",
        "lost",
        "seq_gaps_or_duplicates",
        "meetings_without_exactly_one_final_event",
        "feed_duplicates",
        "feed_out_of_order",
        "feed_missing",
        "completed_missing_artifacts",
        "deleted_leftovers",
    ):
        if f[name]:
            v.append(f"{name} = {f[name]}")
    v += [f"poison {k}: {s}" for k, s in f["poison"].items() if s.startswith("MISSING")]
    for q, c in f["queues"].items():
        if q.endswith(".dead"):
            continue  # the gateway drains it into its table; what remains is counted there
        if c["ready"] or c["unacked"]:
            v.append(f"queue {q} not empty: {c}")
    if f["accepted"] < run.cfg.meetings:
        v.append(f"only {f['accepted']} of {run.cfg.meetings} submissions accepted")
    return v
