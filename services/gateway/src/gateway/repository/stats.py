"""Engine speed statistics (rolling real-time factor) used for ETAs."""

from __future__ import annotations

from gateway.db import Conn

#: Weight of the newest sample in the rolling real-time factor.
ALPHA = 0.2


async def all_rtf(conn: Conn) -> dict[tuple[str, str], float]:
    """Measured real-time factor per (stage, engine)."""
    recs = await conn.fetch("SELECT stage, engine, realtime_factor FROM engine_stats")
    return {(r["stage"], r["engine"]): float(r["realtime_factor"]) for r in recs}


async def observe_rtf(conn: Conn, stage: str, engine: str, rtf: float) -> None:
    """Fold one measurement into the rolling (exponentially weighted) factor."""
    await conn.execute(
        """INSERT INTO engine_stats (stage, engine, realtime_factor, samples)
           VALUES ($1, $2, $3, 1)
           ON CONFLICT (stage, engine) DO UPDATE SET
             realtime_factor = engine_stats.realtime_factor * (1 - $4) + $3 * $4,
             samples = engine_stats.samples + 1, updated_at = now()""",
        stage,
        engine,
        rtf,
        ALPHA,
    )
