"""Progress events while a blocking step runs: bytes downloaded, seconds decoded, percent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from shared.worker import JobContext

#: A snapshot of the work done: (percent or None, message, detail counters).
Snapshot = tuple[float | None, str, dict[str, float]]


@asynccontextmanager
async def reporting(
    ctx: JobContext, snapshot: Callable[[], Snapshot], interval: float
) -> AsyncIterator[None]:
    """Emit ``snapshot()`` as a progress event every ``interval`` s while it changes.

    The snapshot is read from state a worker thread updates; a final event is sent when the
    block ends normally so the last figures always reach the gateway.
    """

    async def loop() -> None:
        last: Snapshot | None = None
        while True:
            current = snapshot()
            if current != last:
                await ctx.progress(current[0], current[1], **current[2])
                last = current
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    percent, message, detail = snapshot()
    await ctx.progress(percent, message, **detail)


def share(done: float, total: float | None, lo: float, hi: float) -> float | None:
    """Map ``done/total`` onto the percent range ``lo..hi`` (None if the total is unknown)."""
    if not total:
        return None
    return lo + (hi - lo) * max(0.0, min(1.0, done / total))
