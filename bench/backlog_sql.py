"""Build a large backlog fast: clone one meeting submitted over REST, directly in SQL.

Submitting 100,000 meetings over the API takes longer than the whole benchmark budget, so
the harness submits one meeting the normal way and copies its rows (the meeting, its
pending dispatches and its events) ``count`` times in the gateway's own tables, with fresh
ids, increasing ``created_at`` and tenant sequence numbers continued past the tenant's last.
Columns are read from the catalogue, so the copy follows the schema as it evolves.
"""

from __future__ import annotations

import asyncpg

# Per table: column → expression over the template row ``t`` and the mapping row ``m``.
_OVERRIDES: dict[str, dict[str, str]] = {
    "meetings": {
        "id": "m.mid",
        "created_at": "t.created_at + m.i * interval '1 microsecond'",
        "updated_at": "t.updated_at + m.i * interval '1 microsecond'",
        "idempotency_key": "NULL",
        "title": "t.title || ' #' || m.i",
        "current_dispatch_id": "CASE WHEN t.current_dispatch_id IS NULL THEN NULL ELSE m.did END",
    },
    "dispatches": {
        "id": "m.did",
        "meeting_id": "m.mid",
        "created_at": "t.created_at + m.i * interval '1 microsecond'",
        # The template may already be dispatched (the dispatcher's slack): copies wait.
        "state": "'pending'",
        "dispatched_at": "NULL",
        "started_at": "NULL",
        "heartbeat_at": "NULL",
        "finished_at": "NULL",
    },
    "events": {
        "id": "DEFAULT",
        "meeting_id": "m.mid",
        "event_id": "gen_random_uuid()",
        "dispatch_id": "CASE WHEN t.dispatch_id IS NULL THEN NULL ELSE m.did END",
        "tenant_seq": "$2 + (m.i - 1) * $3 + t.rank",
    },
}


async def _columns(conn: asyncpg.Connection, table: str) -> list[str]:
    recs = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "AND table_schema = current_schema() ORDER BY ordinal_position",
        table,
    )
    return [r["column_name"] for r in recs]


async def _select_list(conn: asyncpg.Connection, table: str) -> tuple[str, str]:
    cols = [c for c in await _columns(conn, table) if _OVERRIDES[table].get(c) != "DEFAULT"]
    exprs = [_OVERRIDES[table].get(c, f"t.{c}") for c in cols]
    return ", ".join(cols), ", ".join(exprs)


async def clone(dsn: str, template_id: str, count: int) -> float:
    """Copy meeting ``template_id`` ``count`` times; returns the seconds it took."""
    conn = await asyncpg.connect(dsn)
    try:
        start = await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())")
        async with conn.transaction():
            await _clone(conn, template_id, count)
        await conn.execute("ANALYZE meetings; ANALYZE dispatches; ANALYZE events")
        end = await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())")
    finally:
        await conn.close()
    return round(float(end - start), 2)


async def _clone(conn: asyncpg.Connection, template_id: str, count: int) -> None:
    pending = await conn.fetchval(
        "SELECT count(*) FROM dispatches WHERE meeting_id = $1::uuid", template_id
    )
    if pending != 1:
        raise RuntimeError(f"the template meeting has {pending} dispatches; expected one")
    await conn.execute(
        "CREATE TEMP TABLE bench_map ON COMMIT DROP AS SELECT i, gen_random_uuid() AS mid, "
        "gen_random_uuid() AS did FROM generate_series(1, $1::int) AS i",
        count,
    )
    cols, exprs = await _select_list(conn, "meetings")
    await conn.execute(
        f"INSERT INTO meetings ({cols}) SELECT {exprs} FROM meetings t, bench_map m "  # noqa: S608
        "WHERE t.id = $1::uuid",
        template_id,
    )
    cols, exprs = await _select_list(conn, "dispatches")
    await conn.execute(
        f"INSERT INTO dispatches ({cols}) SELECT {exprs} FROM dispatches t, bench_map m "  # noqa: S608
        "WHERE t.meeting_id = $1::uuid",
        template_id,
    )
    await _clone_events(conn, template_id)


async def _clone_events(conn: asyncpg.Connection, template_id: str) -> None:
    tenant_id, per = await conn.fetchrow(
        "SELECT tenant_id, count(*) FROM events WHERE meeting_id = $1::uuid GROUP BY tenant_id",
        template_id,
    ) or (None, 0)
    if not per:
        return
    last = await conn.fetchval("SELECT max(tenant_seq) FROM events WHERE tenant_id = $1", tenant_id)
    cols, exprs = await _select_list(conn, "events")
    await conn.execute(
        f"INSERT INTO events ({cols}) SELECT {exprs} FROM "  # noqa: S608
        "(SELECT *, row_number() OVER (ORDER BY seq) AS rank FROM events "
        " WHERE meeting_id = $1::uuid) t, bench_map m",
        template_id,
        last,
        per,
    )
    await conn.execute(
        "UPDATE tenants SET last_seq = GREATEST(last_seq, "
        "(SELECT max(tenant_seq) FROM events WHERE tenant_id = $1)) WHERE id = $1",
        tenant_id,
    )
