"""Queries of the retention sweep (finished meetings only, never ones in progress)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from gateway.db import Conn, rows

_FINISHED = "status IN ('completed', 'failed', 'cancelled') AND finished_at IS NOT NULL"


async def originals_older_than(conn: Conn, days: float, limit: int) -> list[dict[str, Any]]:
    """Finished meetings whose uploaded original is still kept past ``days``."""
    return rows(
        await conn.fetch(
            f"""SELECT id, source FROM meetings WHERE {_FINISHED}
              AND finished_at < now() - make_interval(secs => $1 * 86400)
              AND source_kind = 'upload' AND NOT (artifacts ? 'original_deleted')
            LIMIT $2""",  # noqa: S608
            days,
            limit,
        )
    )


async def mark_original_deleted(conn: Conn, meeting_id: UUID) -> None:
    """Remember that the original is gone (exports say so instead of failing)."""
    await conn.execute(
        """UPDATE meetings SET artifacts = artifacts || '{"original_deleted": true}'::jsonb
           WHERE id = $1""",
        meeting_id,
    )


async def meetings_older_than(conn: Conn, days: float, limit: int) -> list[UUID]:
    """Finished meetings past ``days``."""
    recs = await conn.fetch(
        f"""SELECT id FROM meetings WHERE {_FINISHED}
              AND finished_at < now() - make_interval(secs => $1 * 86400) LIMIT $2""",  # noqa: S608
        days,
        limit,
    )
    return [r["id"] for r in recs]


async def delete_meeting(conn: Conn, meeting_id: UUID) -> None:
    """Delete a finished meeting and its side rows (guarded: never one in progress)."""
    async with conn.transaction():
        deleted = await conn.execute(
            f"DELETE FROM meetings WHERE id = $1 AND {_FINISHED}",  # noqa: S608
            meeting_id,
        )
        if deleted.endswith(" 1"):
            await conn.execute("DELETE FROM webhook_deliveries WHERE meeting_id = $1", meeting_id)
            await conn.execute("DELETE FROM dead_letters WHERE meeting_id = $1", meeting_id)


async def purge_attempt_details(conn: Conn, days: float) -> int:
    """Drop failed/superseded attempts of finished meetings past ``days``."""
    res = await conn.execute(
        f"""DELETE FROM dispatches d USING meetings m
            WHERE d.meeting_id = m.id AND d.state IN ('failed', 'superseded', 'cancelled')
              AND m.{_FINISHED.replace(" AND ", " AND m.")}
              AND m.finished_at < now() - make_interval(secs => $1 * 86400)""",  # noqa: S608
        days,
    )
    return int(res.split()[-1])
